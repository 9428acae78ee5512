"""What campaign_lift and automation_lift print as text (their --json is each command's own)."""

from campaigns.selectors.lift import Lift


def _show(value, percent=False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if percent else str(value)


def write_lift(stdout, heading: list[tuple[str, str]], lift: Lift) -> None:
    """The heading rows (what was measured), then both groups, the lift and the sentence."""
    data = lift.as_dict()
    rows = [
        *heading,
        ("Outcome window", f"{lift.window_days} days" + ("" if data["window_complete"] else " (not over yet)")),
        ("", "recipients / holdout"),
        ("Customers", f"{data['treated']} / {data['holdout']}"),
        ("Converted", f"{data['treated_converted']} / {data['holdout_converted']}"),
        ("Conversion rate", f"{_show(data['treated_rate'], True)} / {_show(data['holdout_rate'], True)}"),
        ("Revenue per customer", f"{_show(data['treated_revenue_per_customer'])} / "
                                 f"{_show(data['holdout_revenue_per_customer'])}"),
        ("Retention", f"{_show(data['treated_retention_rate'], True)} / {_show(data['holdout_retention_rate'], True)}"),
        ("Lift (95% CI)", f"{_show(data['lift'], True)} ({_show(data['lift_ci_low'], True)} to "
                          f"{_show(data['lift_ci_high'], True)})"),
        ("Revenue/customer diff", f"{_show(data['revenue_per_customer_difference'])} "
                                  f"({_show(data['revenue_per_customer_ci_low'])} to "
                                  f"{_show(data['revenue_per_customer_ci_high'])})"),
        ("Incremental orders", _show(data["incremental_orders"])),
        ("Incremental revenue", _show(data["incremental_revenue"])),
    ]
    for label, value in rows:
        stdout.write(f"{label:<24} {value}")
    stdout.write(data["sentence"])
