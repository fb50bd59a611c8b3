"""Writes for coverage, by topic: checks (runs, snapshots, alerts), scenarios (what-if figures,
nothing written), forecasts (uploads and CSV imports) and inbound receipts. Each topic module
states its guarantees; pure parsing lives in `vault.coverage.parsing`, reads and the figures
computation in `vault.coverage.selectors`.

`from vault.coverage import services; services.coverage_check(...)` is the way in for the other
modules, the admin, the API and the tests."""

from vault.coverage.parsing import ForecastRow
from vault.coverage.services.checks import alerts_notify, coverage_check, coverage_recheck_enqueue, snapshot_build
from vault.coverage.services.forecasts import forecast_import_csv, forecast_rows_parse, forecast_upload
from vault.coverage.services.inbound import inbound_create, inbound_delete, inbound_update
from vault.coverage.services.scenarios import coverage_scenario

__all__ = [
    "ForecastRow",
    "alerts_notify",
    "coverage_check",
    "coverage_recheck_enqueue",
    "coverage_scenario",
    "forecast_import_csv",
    "forecast_rows_parse",
    "forecast_upload",
    "inbound_create",
    "inbound_delete",
    "inbound_update",
    "snapshot_build",
]
