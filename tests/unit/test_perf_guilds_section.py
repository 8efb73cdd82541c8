"""`python -m tests.perf --only guilds` rewrites only its own section of
docs/performance.md (tests/perf/guilds_report.py), wherever the section is."""

from __future__ import annotations

from pathlib import Path

from tests.perf.guilds_report import section, splice

DOC = "# Performance\n\n## 1. Interactions\n\nfigures\n\n## Targets\n\n- ✅ one\n"


def test_a_new_section_goes_before_the_targets(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(DOC)
    splice(doc, "## Many guilds\n\nfirst run\n")
    text = doc.read_text()
    assert (
        text.index("## 1. Interactions") < text.index("## Many guilds") < text.index("## Targets")
    )
    assert section(text) == "## Many guilds\n\nfirst run\n\n"


def test_a_second_run_replaces_only_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(DOC)
    splice(doc, "## Many guilds\n\nfirst run\n")
    splice(doc, "## Many guilds\n\nsecond run\n")
    text = doc.read_text()
    assert "first run" not in text and text.count("## Many guilds") == 1
    assert text.replace("## Many guilds\n\nsecond run\n\n", "") == DOC
