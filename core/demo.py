"""Demo data for `seed_demo`: the runner, and the steps every app contributes.

Each app declares one step in its contributions module (`demo_step_registry.register(name, step)`);
the runner calls them in registration order, so crm's step, which creates the customers with their
orders and history, comes first, and the apps above add their data for those customers (club
members, surveys, segments). core never imports them.

A step is `step(run: DemoRun) -> {"name": count, ...} | None`. `run.rng` is a random generator of
its own, derived from the seed and the step's name, so adding a step does not change the data of
the others; `run.created` is a QuerySet of the customers this run created (set by crm's step).
"""

import functools
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from core.registry import Registry


class DemoDataExists(Exception):
    """The database already has customers and appending was not asked for."""


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


# Called as progress(desc=..., total=..., unit=...); tqdm's constructor fits.
ProgressFactory = Callable[..., ProgressBar]


class NoProgress:
    def __init__(self, **kwargs):
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class DemoRun:
    """What one `seed_demo` run asks for, and what its steps hand on to the next ones."""

    customers: int  # how many customers to create
    seed: int
    now: datetime  # the anchor: the history ends here
    progress: ProgressFactory
    log: Callable[[str], None]
    append: bool = False
    chunk_size: int | None = None
    # The seed the steps' generators derive from; the first step may mix in what the database holds
    # already (appending), so that a second run with the same seed does not repeat the first.
    rng_seed: int | str = 0
    created: Any = None  # QuerySet of the customers this run created
    rng: random.Random = field(default_factory=random.Random)  # the current step's own generator


SeedStep = Callable[[DemoRun], Mapping[str, int] | None]


def seed_step(seed: Callable[..., Mapping[str, int] | None]) -> SeedStep:
    """A step from an app's `seed(*, rng, customers, now, progress)`: the customers this run created,
    the step's own generator, the anchor and the progress bars."""

    @functools.wraps(seed)
    def step(run: DemoRun):
        return seed(rng=run.rng, customers=run.created, now=run.now, progress=run.progress)

    return step

# name -> step, in the order they run
demo_step_registry: Registry[SeedStep] = Registry("demo steps")


def registered_steps() -> list[str]:
    return list(demo_step_registry)


def seed_demo(
    *,
    customers: int,
    seed: int = 1,
    progress: ProgressFactory | None = None,
    now: datetime | None = None,
    append: bool = False,
    chunk_size: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Create `customers` demo customers with their history and every app's data; return the counts created.

    The data is reproducible: the same seed and the same anchor date give the same rows. Raises
    DemoDataExists (from crm's step) when customers exist and `append` is false."""
    if customers < 0:
        raise ValueError("customers must be zero or more")
    run = DemoRun(
        customers=customers, seed=seed, now=now or default_anchor(), progress=progress or NoProgress,
        log=log or (lambda message: None), append=append, chunk_size=chunk_size, rng_seed=seed,
    )
    counts: Counter[str] = Counter()
    for name, step in demo_step_registry.items():
        run.log(f"Seeding {name}...")
        run.rng = random.Random(f"{run.rng_seed}:{name}")
        started = time.monotonic()
        counts.update(step(run) or {})
        run.log(f"{name}: {time.monotonic() - started:.1f} s")
    return dict(counts)


def default_anchor() -> datetime:
    """Today at midnight UTC: data is reproducible on the same day and always ends now."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
