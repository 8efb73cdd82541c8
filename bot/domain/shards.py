"""Which guilds a process serves: Discord's sharding formula, as plain data."""

from __future__ import annotations

from dataclasses import dataclass

# A guild id's timestamp starts at bit 22; Discord shards on what is above it.
SHARD_SHIFT = 22


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards `ids` of `count`: a guild is ours when (guild_id >> 22) % count is in ids."""

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"shards {sorted(self.ids)} of {self.count}")

    @classmethod
    def only(cls, count: int, *ids: int) -> Shards:
        return cls(count, frozenset(ids))

    def owns(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    @property
    def every(self) -> bool:
        """Whether these are all the shards: one process serves every guild."""
        return len(self.ids) == self.count


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> SHARD_SHIFT) % count
