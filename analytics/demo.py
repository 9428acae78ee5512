"""analytics' step of `seed_demo` (after campaigns' segments): RFM scores, predictions and the
retention snapshots, so the dashboard shows figures from the start."""

from analytics.services.scores import predictions_refresh, rfm_refresh
from analytics.services.snapshots import snapshots_refresh


def seed(*, rng, customers, now, progress=None) -> dict:
    from analytics.predictions.model import FitError  # numpy and scipy load only when seeding

    rfm_refresh(at=now)
    try:
        predictions_refresh(at=now)
    except FitError:  # a tiny demo may not have enough repeat buyers to fit; the job refits later
        pass
    snapshots = snapshots_refresh(today=now.date(), periods=4)
    return {"retention snapshots": snapshots["computed"]}
