"""Who lives in the demo's server, and what they work on: chosen from a seed.

Pure data and `random.Random(seed)`: the same seed gives the same community, names,
parts in the story and task titles, on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Parts volunteers play in the week (see bot/demo/script.py). The first six are always
# different people; the last four go to extra volunteers when the seed has them, else
# to someone from the first six who fits.
LEADS = ("reviewer", "worker", "newcomer", "sleeper", "ghost", "proposer")
EXTRAS = ("endorser", "backer", "picker", "fan")


@dataclass(frozen=True, slots=True)
class Person:
    username: str  # as on Discord: lowercase
    name: str  # display name, shown in the transcript


@dataclass(frozen=True, slots=True)
class TaskIdea:
    title: str
    description: str
    points: int
    tags: str  # comma separated, as a member types them


@dataclass(frozen=True, slots=True)
class Theme:
    server: str
    milestone_role: str
    small: tuple[TaskIdea, ...]  # 1–2 points: newcomers' and quick tasks
    medium: tuple[TaskIdea, ...]  # 3 points: left for "help wanted"
    big: tuple[TaskIdea, ...]  # 5 points: the task that goes through two review rounds
    proposals: tuple[TaskIdea, ...]  # what a volunteer suggests
    changes: tuple[str, ...]  # what a reviewer asks to change on the big task


def _t(title: str, points: int, tags: str, description: str = "") -> TaskIdea:
    return TaskIdea(title, description, points, tags)


THEMES: tuple[Theme, ...] = (
    Theme(
        server="Lighthouse Docs",
        milestone_role="Lighthouse Keeper",
        small=(
            _t("Fix broken links on the install page", 1, "docs, good first"),
            _t("Add alt text to the tutorial screenshots", 1, "docs, accessibility, good first"),
            _t("Proofread the FAQ", 1, "docs, good first"),
            _t("Update the copyright year in the footer", 1, "website"),
            _t("Turn the glossary into a sortable table", 2, "docs"),
            _t("Write a changelog entry for 2.4", 2, "release"),
            _t("Add a 'last updated' line to every page", 2, "website"),
        ),
        medium=(
            _t("Record a two-minute getting-started video", 3, "video, outreach"),
            _t("Check every code sample still runs", 3, "docs, testing"),
        ),
        big=(
            _t(
                "Write the migration guide from 1.x to 2.x",
                5,
                "docs",
                "Cover the renamed settings, the new CLI and a worked example. Link it from the upgrade notice.",
            ),
            _t(
                "Rewrite the contributor guide",
                5,
                "docs, community",
                "Shorter, friendlier, with a first-task walkthrough and who to ask for help.",
            ),
        ),
        proposals=(
            _t("Translate the quick start into Spanish", 2, "i18n"),
            _t("Add a dark theme to the docs site", 2, "website"),
        ),
        changes=(
            "Lovely start! The worked example skips the config step — could you add it, and link the CLI reference?",
            "Great content. Could you split the long page into sections with headings, and fix the two dead links at the end?",
        ),
    ),
    Theme(
        server="Riverside Mappers",
        milestone_role="Cartographer",
        small=(
            _t("Tag the bus stops along Route 7", 1, "transit, good first"),
            _t("Add opening hours for the market hall", 1, "shops, good first"),
            _t("Fix the misspelled street names in Eastbank", 1, "names, good first"),
            _t("Mark the new bike racks at the station", 1, "cycling"),
            _t("Trace the footpaths in Willow Park", 2, "paths"),
            _t("Add wheelchair access info to the library", 2, "accessibility"),
            _t("Check the one-way streets in the old town", 2, "roads"),
        ),
        medium=(
            _t("Survey the playgrounds on the north side", 3, "survey, outreach"),
            _t("Import the council's tree register", 3, "data"),
        ),
        big=(
            _t(
                "Map the flood defences along the river",
                5,
                "survey, safety",
                "Walls, gates and pumping stations, with heights where the council publishes them.",
            ),
            _t(
                "Map every pharmacy with its opening hours",
                5,
                "health",
                "Name, hours, wheelchair access and phone number, checked on the ground or by phone.",
            ),
        ),
        proposals=(
            _t("Run a mapping walk for newcomers", 2, "outreach"),
            _t("Add the allotments to the map", 2, "landuse"),
        ),
        changes=(
            "Nice work! Two of the gates are on the wrong bank — could you check them against the aerial imagery?",
            "Really useful. A few entries have no source tag; could you add where each one came from?",
        ),
    ),
    Theme(
        server="Night Sky Watch",
        milestone_role="Star Spotter",
        small=(
            _t("Classify 50 meteor photos from last night", 1, "classify, good first"),
            _t("Check the timestamps on the April uploads", 1, "data, good first"),
            _t("Label the cloud-cover images from station 3", 1, "classify, good first"),
            _t("Fix the units in the light-pollution table", 1, "data"),
            _t("Write a how-to for the new camera mount", 2, "docs"),
            _t("Match sightings to the satellite pass list", 2, "data"),
            _t("Draw the constellation guide for the kids' page", 2, "outreach"),
        ),
        medium=(
            _t("Calibrate the magnitudes from station 5", 3, "data, science"),
            _t("Plan the spring star party", 3, "events, outreach"),
        ),
        big=(
            _t(
                "Write up the Perseids count for the newsletter",
                5,
                "writing, science",
                "Hourly rates per station, a chart, and a paragraph on the weather that night.",
            ),
            _t(
                "Build the light-pollution map for the valley",
                5,
                "data, maps",
                "Combine the meter readings into one map with a legend and a note on method.",
            ),
        ),
        proposals=(
            _t("Start a monthly beginners' observing night", 2, "events"),
            _t("Add a gallery of members' best photos", 2, "website"),
        ),
        changes=(
            "Lovely write-up! The chart has no axis labels, and station 2's numbers look doubled — could you check?",
            "Great map. Could you add the legend for the readings and say which nights were cloudy?",
        ),
    ),
    Theme(
        server="Commons Translators",
        milestone_role="Polyglot",
        small=(
            _t("Translate the sign-up page into Portuguese", 1, "pt, good first"),
            _t("Review the French strings for the settings menu", 1, "fr, review, good first"),
            _t("Fix the plural forms in the German locale", 1, "de, good first"),
            _t("Translate the error messages into Italian", 1, "it"),
            _t("Add the Swahili glossary to the wiki", 2, "sw, glossary"),
            _t("Check the right-to-left layout in Arabic", 2, "ar, layout"),
            _t("Translate the privacy notice into Polish", 2, "pl, legal"),
        ),
        medium=(
            _t("Set up the style guide for the Dutch team", 3, "nl, docs"),
            _t("Recruit a second reviewer for Japanese", 3, "ja, outreach"),
        ),
        big=(
            _t(
                "Translate the user handbook into Spanish",
                5,
                "es, docs",
                "All twelve chapters; keep the glossary terms; screenshots can stay in English for now.",
            ),
            _t(
                "Translate the onboarding course into Hindi",
                5,
                "hi, course",
                "Five lessons and their quizzes; flag anything that doesn't work culturally.",
            ),
        ),
        proposals=(
            _t("Hold a monthly translation sprint", 2, "community"),
            _t("Add a language switcher to the footer", 2, "website"),
        ),
        changes=(
            "Beautiful translation! Chapter 4 mixes 'usted' and 'tú' — could you make it consistent?",
            "Great work. A few glossary terms drifted in lesson 3; could you align them with the glossary?",
        ),
    ),
)

FIRST_NAMES = (
    "Amara", "Bo", "Chidi", "Dana", "Eitan", "Farah", "Gus", "Hana", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomás",
    "Uma", "Viktor", "Wen", "Yara", "Zeynep", "Aiko", "Bruno", "Chloé", "Dev", "Elif",
)  # fmt: skip
MAINTAINER_NAMES = ("Mara", "Theo", "Ruth", "Odile", "Kwame", "Signe", "Pavel", "Lucía")


@dataclass(frozen=True, slots=True)
class Community:
    seed: int
    theme: Theme
    maintainers: tuple[Person, Person]
    volunteers: tuple[Person, ...]
    parts: dict[str, Person]  # part in the story -> who plays it
    tasks: dict[str, TaskIdea]  # key in the script -> task
    csv_keys: tuple[str, ...]  # the tasks imported from CSV, in file order
    change_request: str

    @property
    def members(self) -> tuple[Person, ...]:
        return self.maintainers + self.volunteers

    def who(self, part: str) -> Person:
        if part == "lead":
            return self.maintainers[0]
        if part == "co-lead":
            return self.maintainers[1]
        return self.parts[part]

    def csv(self) -> bytes:
        """The file the lead maintainer imports: title,description,points,tags,due,capacity."""
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("title", "description", "points", "tags", "due", "capacity"))
        for key in self.csv_keys:
            task = self.tasks[key]
            writer.writerow((task.title, task.description, task.points, task.tags, "", 1))
        return buffer.getvalue().encode()


def _person(name: str) -> Person:
    username = name.lower().replace("é", "e").replace("á", "a").replace("í", "i")
    return Person(username, name)


def community(seed: int) -> Community:
    rng = random.Random(seed)  # noqa: S311 - a story, not a secret: repeatable per seed
    theme = THEMES[rng.randrange(len(THEMES))]
    lead, co_lead = (_person(n) for n in rng.sample(MAINTAINER_NAMES, 2))
    count = rng.randint(6, 10)
    volunteers = tuple(_person(n) for n in rng.sample(FIRST_NAMES, count))
    parts = dict(zip(LEADS, volunteers, strict=False))
    extras = list(volunteers[len(LEADS) :])
    # Without extra volunteers, a part goes to someone free at that point of the week.
    fallback = {
        "endorser": parts["reviewer"],  # endorses the proposal on Monday
        "backer": parts["worker"],  # endorses it on Tuesday, claims it on Saturday
        "picker": parts["newcomer"],  # a contributor by Thursday: claims the returned task
        "fan": parts["sleeper"],  # gives kudos on Friday
    }
    for part in EXTRAS:
        parts[part] = extras.pop(0) if extras else fallback[part]

    starters = [t for t in theme.small if "good first" in t.tags]
    first = rng.choice(starters)
    second, ghost_task, quick, sleeper_task = rng.sample([t for t in theme.small if t != first], 4)
    tasks = {
        "first": first,  # the newcomer's first task
        "second": second,  # the one the claim limit keeps them from
        "ghost": ghost_task,  # claimed, forgotten, expires
        "sleeper": sleeper_task,  # warned, "Still on it", finished
        "quick": quick,
        "spare": rng.choice(theme.medium),  # stays open: "help wanted" in the digest
        "big": rng.choice(theme.big),
        "idea": rng.choice(theme.proposals),
    }
    # The claim windows the story relies on: 1–2 points are 3 days, 5 points are 7 days.
    tasks["first"] = _points(tasks["first"], 1)
    tasks["ghost"] = _points(tasks["ghost"], 1)
    tasks["sleeper"] = _points(tasks["sleeper"], 2)
    return Community(
        seed=seed,
        theme=theme,
        maintainers=(lead, co_lead),
        volunteers=volunteers,
        parts=parts,
        tasks=tasks,
        csv_keys=("first", "second", "ghost", "sleeper", "quick", "spare"),
        change_request=rng.choice(theme.changes),
    )


def _points(task: TaskIdea, points: int) -> TaskIdea:
    return TaskIdea(task.title, task.description, points, task.tags)
