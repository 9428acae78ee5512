"""Where the club's code lives: small modules, reads that never reach into the write side,
and the public names callers used before the points ledger became a package."""

import ast
from pathlib import Path

import pytest

import club
from club import selectors, services

CLUB = Path(club.__file__).parent
READ_SIDE = ["selectors", "codes.py", "dates.py"]


def club_modules():
    for path in sorted(CLUB.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_club_module_passes_400_lines_but_the_models():
    long = {str(path.relative_to(CLUB)): count for path in club_modules()
            if (count := len(path.read_text().splitlines())) > 400 and path.name != "models.py"}
    assert long == {}


@pytest.mark.parametrize("place", READ_SIDE)
def test_the_read_side_never_imports_the_services(place):
    # The services read through the selectors; an import back would be a cycle waiting to happen.
    paths = sorted((CLUB / place).rglob("*.py")) if (CLUB / place).is_dir() else [CLUB / place]
    reaching = {str(path.relative_to(CLUB)): sorted(name for name in imported_modules(path) if name.startswith("club.services"))
                for path in paths}
    assert {path: names for path, names in reaching.items() if names} == {}


def test_no_club_module_imports_a_private_name_of_another():
    private = {
        f"{path.relative_to(CLUB)}: {node.module}.{alias.name}"
        for path in club_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("club")
        for alias in node.names if alias.name.startswith("_")
    }
    assert private == set()


def test_the_points_ledger_s_subdomains_each_have_a_module():
    modules = {path.stem for path in (CLUB / "services" / "points").glob("*.py")}
    assert {"ledger", "reversals", "pending", "expiry", "verification"} <= modules


@pytest.mark.parametrize("name", [
    "points_award", "points_adjust", "points_spend", "points_reverse_for_order", "points_release_pending", "points_expire_due",
    "points_warn_expiring", "points_verify_balances", "points_rebuild_balances", "points_refresh_cached",
    "credits_with_remaining", "credit_remaining", "coupon_validate", "CouponCheck", "offer_refusal", "tier_qualifying_value",
    "members_due_birthday", "rules_active", "card_link", "member_number_format", "coupon_code_format",
])
def test_names_callers_import_from_club_services_still_work(name):
    assert name in services.__all__ and getattr(services, name) is not None


@pytest.mark.parametrize("name", ["credits_with_remaining", "credit_remaining", "coupon_validate", "offer_refusal",
                                  "tier_qualifying_value", "members_due_birthday", "rules_active", "membership_of"])
def test_reads_live_in_the_selectors(name):
    assert getattr(selectors, name).__module__.startswith("club.selectors.")
