from django.urls import path

from vault.core.routers import routed_urls
from vault.financing import apis
from vault.ledger import apis as ledger_apis

urlpatterns = [
    path("facilities/<str:code>/statement/", apis.FacilityStatementApi.as_view(), name="facility-statement"),
    path("facilities/<str:code>/statement.csv", apis.FacilityStatementCsvApi.as_view(), name="facility-statement-csv"),
    path(
        "facilities/<str:code>/statement.xlsx", apis.FacilityStatementXlsxApi.as_view(), name="facility-statement-xlsx"
    ),
    path("valuation/", apis.ValuationApi.as_view(), name="valuation"),
    path("ledger/trial-balance/", ledger_apis.TrialBalanceApi.as_view(), name="ledger-trial-balance"),
    path("ledger/export.csv", ledger_apis.LedgerCsvExportApi.as_view(), name="ledger-export-csv"),
    path("ledger/export.xlsx", ledger_apis.LedgerXlsxExportApi.as_view(), name="ledger-export-xlsx"),
    *routed_urls(apis, ledger_apis),
]
