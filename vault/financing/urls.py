from django.urls import path
from rest_framework.routers import DefaultRouter

from vault.financing import apis
from vault.ledger import apis as ledger_apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("facilities", apis.FacilityViewSet, basename="facility")
router.register("tranches", apis.TrancheViewSet, basename="tranche")
router.register("repayments", apis.RepaymentViewSet, basename="repayment")
router.register("interest-accruals", apis.InterestAccrualViewSet, basename="interest-accrual")
router.register("interest-payments", apis.InterestPaymentViewSet, basename="interest-payment")
router.register("fees", apis.FeeReceiptViewSet, basename="fee")
router.register("price-points", apis.PricePointViewSet, basename="price-point")
router.register("ledger/entries", ledger_apis.JournalEntryViewSet, basename="ledger-entry")
router.register("ledger/accounts", ledger_apis.AccountViewSet, basename="ledger-account")
router.register("ledger/manual-entries", ledger_apis.ManualEntryViewSet, basename="ledger-manual-entry")
router.register("ledger/periods", ledger_apis.PeriodViewSet, basename="ledger-period")
router.register("ledger/reopen-requests", ledger_apis.ReopenRequestViewSet, basename="ledger-reopen-request")

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
    *router.urls,
]
