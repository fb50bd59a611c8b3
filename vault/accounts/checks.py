"""`manage.py check --deploy`: a production without the staff's second factor is reported."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def second_factor_check(app_configs, **kwargs) -> list[Warning]:
    if settings.VAULT_STAFF_OTP_REQUIRED:
        return []
    return [
        Warning(
            "VAULT_STAFF_OTP_REQUIRED is off: staff who have not enrolled sign in to the admin with a password only.",
            hint="Unset it (production's default is on); see docs/security.md, 'Second factor for staff'.",
            id="vault.W001",
        )
    ]
