"""Financing's gauges for /metrics, registered in FinancingConfig.ready() (vault.core.metrics)."""

from collections.abc import Iterator
from datetime import datetime, time

from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from vault.financing.models import InterestAccrual


def financing_metrics() -> Iterator[Metric]:
    """`vault_interest_last_accrued_day{facility}`: the last day accrued on each loan, as the Unix
    time of that day's start in TIME_ZONE. A loan with no accrual yet (nothing disbursed) has no
    series. One query."""
    gauge = GaugeMetricFamily(
        "vault_interest_last_accrued_day",
        "Last day of interest accrued on the facility, as the Unix time of its start (TIME_ZONE).",
        labels=["facility"],
    )
    zone = timezone.get_default_timezone()
    last_days = (
        InterestAccrual.objects.values("facility__code")
        .annotate(last=Max("date"))
        .order_by("facility__code")
        .values_list("facility__code", "last")
    )
    for code, day in last_days:
        gauge.add_metric([code], datetime.combine(day, time(), tzinfo=zone).timestamp())
    yield gauge
