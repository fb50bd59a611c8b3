"""Coverage's gauges for /metrics, registered in CoverageConfig.ready() (vault.core.metrics)."""

from collections.abc import Iterator

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from prometheus_client.core import GaugeMetricFamily, Metric

from vault.coverage.models import Alert
from vault.inventory.models import Material


def coverage_metrics() -> Iterator[Metric]:
    """`vault_coverage_open_breaches{material}`: the material's open breach alerts (0 or 1: one
    open alert per material and level). Alerts, not the latest snapshot, are the state a coverage
    run opens and resolves and the one notified. Every material has a series, so a resolved
    breach reads 0 instead of vanishing. One query."""
    open_breaches = (
        Alert.objects.filter(material=OuterRef("pk"), level=Alert.Level.BREACH, resolved_at__isnull=True)
        .order_by()
        .values("material")
        .annotate(count=Count("id"))
        .values("count")
    )
    gauge = GaugeMetricFamily(
        "vault_coverage_open_breaches",
        "Open coverage breach alerts of the material (coverage below its target).",
        labels=["material"],
    )
    materials = Material.objects.annotate(breaches=Coalesce(Subquery(open_breaches), 0)).order_by("code")
    for code, breaches in materials.values_list("code", "breaches"):
        gauge.add_metric([code], breaches)
    yield gauge
