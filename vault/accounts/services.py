import logging
import time
from binascii import unhexlify
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.settings import knox_settings

from vault.accounts.errors import (
    InvalidCredentials,
    PasswordTooWeak,
    SecondFactorAlreadyEnrolled,
    SecondFactorCodeInvalid,
    SecondFactorNotEnrolled,
    SecondFactorResetRefused,
    TokenLimitReached,
)
from vault.accounts.models import Organization, SecondFactorEvent, User
from vault.accounts.roles import ROLE_CHANGE_APPS, STAFF_ROLES, Role
from vault.core.errors import Conflict, InvalidInput, NotFound
from vault.core.history import history_as

log = logging.getLogger(__name__)


def roles_sync() -> None:
    """Every role has a group holding exactly its permissions: view on everything for staff
    roles, add/change/delete on the apps the role owns. Safe to run any number of times."""
    all_permissions = Permission.objects.select_related("content_type")
    view_ids = [p.id for p in all_permissions if p.codename.startswith("view_")]
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role not in STAFF_ROLES:
            group.permissions.clear()
            continue
        apps = ROLE_CHANGE_APPS[role]
        change_ids = [p.id for p in all_permissions if p.content_type.app_label in apps]
        group.permissions.set(set(view_ids) | set(change_ids))


def password_validate(*, password: str, user: User | None = None) -> None:
    """Raise PasswordTooWeak (code `password_too_weak`, field `password`, every validator's
    message) unless `password` passes AUTH_PASSWORD_VALIDATORS for `user` (saved or not)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PasswordTooWeak(messages=list(exc.messages)) from exc


def _password_set(*, user: User, password: str) -> None:
    """Validate and set (unsaved) the password. Saving it revokes the user's API tokens (the
    database's trigger, migration accounts/0003); its sessions end by themselves: each holds a
    hash of the old password (get_session_auth_hash)."""
    password_validate(password=password, user=user)
    user.set_password(password)


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Give `user` a new password that passes the validators (else PasswordTooWeak, nothing
    written). Every API token of the user is deleted (by the database, as for any change of the
    password) and every session of the user stops authenticating: a reset or a change locks out
    whoever held the old credentials."""
    _password_set(user=user, password=password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_upsert(
    *,
    username: str,
    role: str,
    org_code: str | None = None,
    password: str | None = None,
    email: str = "",
) -> User:
    """Create or update a user with exactly one role (and its group). A manufacturer must
    belong to an organization; an unknown org code creates the organization. A password must
    pass the validators (PasswordTooWeak, nothing written); setting one revokes the user's
    API tokens (see user_password_set)."""
    if role not in Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.", field="role", code="role_unknown"
        )
    if role == Role.MANUFACTURER and not org_code:
        raise InvalidInput(
            "A manufacturer must belong to an organization.", field="org", code="manufacturer_needs_organization"
        )
    user = User.objects.filter(username=username).first() or User(username=username)
    if email:
        user.email = email
    if password:
        _password_set(user=user, password=password)  # before any write: a weak password changes nothing
    elif not user.password:  # a new user without a password: none can log in with it
        user.set_unusable_password()
    organization = None
    if org_code:
        organization, _ = Organization.objects.get_or_create(
            code=org_code,
            defaults={
                "name": org_code,
                "kind": Organization.Kind.MANUFACTURER if role == Role.MANUFACTURER else Organization.Kind.OPERATOR,
            },
        )
    user.role = role
    user.organization = organization
    user.is_staff = role in STAFF_ROLES
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


# --- API tokens (docs/security.md, "API tokens") ------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued. `key` is the secret, known only here and to the client: the database
    keeps its SHA-512 digest."""

    key: str
    token: AuthToken

    @property
    def expiry(self) -> datetime:
        return self.token.expiry


def token_obtain(*, request, username: str, password: str) -> IssuedToken:
    """Exchange a username and password for a new API token (token_create). The credentials go
    through AUTHENTICATION_BACKENDS with the request, so django-axes counts a failure and refuses
    a locked-out username and address. A wrong password, an unknown or inactive user and a
    lockout all raise the same InvalidCredentials (400 `invalid_credentials`); nothing is issued."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise InvalidCredentials()
    return token_create(user=user)


@transaction.atomic
def token_create(*, user: User) -> IssuedToken:
    """Issue a new API token to `user`, expiring REST_KNOX TOKEN_TTL (VAULT_API_TOKEN_TTL_HOURS)
    from now whatever its use. Only the key's digest and first characters are stored.

    The user's row is locked first, so that this serializes with a change of the password or of
    `is_active` and with other issues to the same user. If the database's password or active flag
    differs from the `user` given (changed since it was authenticated), or the user is inactive,
    InvalidCredentials and nothing is written: a token never outlives the credentials it was
    issued for. The user's expired tokens are deleted; with TOKEN_LIMIT_PER_USER
    (VAULT_API_TOKEN_LIMIT_PER_USER) live ones already, TokenLimitReached (409), nothing written."""
    current = User.objects.select_for_update(no_key=True).filter(pk=user.pk).values("password", "is_active").first()
    if current is None or not current["is_active"] or current["password"] != user.password:
        raise InvalidCredentials()
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise TokenLimitReached(limit=limit)
    token, key = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
    log.info("API token %s issued to %s, expires %s", token.token_key, user.username, token.expiry.isoformat())
    return IssuedToken(key=key, token=token)


@transaction.atomic
def token_revoke(*, by: User, token: AuthToken | None = None) -> int:
    """Revoke `token`, one of `by`'s own (another user's: NotFound, nothing revoked), or with no
    token every API token `by` holds. The rows are deleted, so the next request with a revoked key
    is a 401. Returns how many were revoked."""
    tokens = AuthToken.objects.filter(user=by)
    if token is not None:
        if token.user_id != by.pk:
            raise NotFound("No such token.", code="token_not_found")
        tokens = tokens.filter(digest=token.digest)
    revoked, _ = tokens.delete()
    log.info(
        "API token%s of %s revoked by its owner: %s",
        "" if token else "s",
        by.username,
        token.token_key if token else f"all ({revoked})",
    )
    return revoked


# --- the staff's second factor (docs/security.md, "Second factor for staff") ----------------------
# An authenticator app: django-otp's TOTP device named "default" (two_factor's login asks for that
# one), 6 digits every 30 s, one step of clock difference either way. Backup codes: django-otp's
# static device, BACKUP_CODE_COUNT codes, each accepted once.

TOTP_STEP, TOTP_DIGITS, TOTP_TOLERANCE = 30, 6, 1
BACKUP_CODE_COUNT = 10


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    backup_codes: list[str]  # in clear here only: shown to the user once, never again


def totp_offset(*, key: str, code: str | int, at: float | None = None) -> int | None:
    """The time step (-1, 0 or +1 from the one of `at`, default now) at which `code` is the TOTP
    code of the hex `key`, or None when it is none of the three. The rule for a code at enrolment
    (the login's codes are django-otp's TOTPDevice.verify_token, same step, digits, tolerance)."""
    try:
        token = int(str(code).strip())
    except ValueError:
        return None
    totp = TOTP(unhexlify(key.encode()), TOTP_STEP, 0, TOTP_DIGITS)
    totp.time = time.time() if at is None else at
    for offset in (0, -TOTP_TOLERANCE, TOTP_TOLERANCE):
        totp.drift = offset
        if totp.token() == token:
            return offset
    return None


def _backup_codes_replace(*, user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="backup", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _second_factor_event(*, user: User, by: User, kind: str, ip: str | None) -> SecondFactorEvent:
    log.info("Second factor: %s", kind, extra={"subject": user.username, "by": by.username})
    return SecondFactorEvent.objects.create(user=user, by=by, kind=kind, ip_address=ip)


@transaction.atomic
def second_factor_enrol(*, user: User, key: str, code: str | int, ip: str | None = None) -> Enrolment:
    """Give `user` the authenticator app holding the hex `key`, once `code` proves the app shows
    its codes (else SecondFactorCodeInvalid, nothing written), and a fresh set of backup codes.
    SecondFactorAlreadyEnrolled when the user has one already (a superuser resets it first). The
    code used here is spent: the login takes only a later one. One event row: `enrolled`."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time per user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorAlreadyEnrolled()
    now = time.time()
    offset = totp_offset(key=key, code=code, at=now)
    if offset is None:
        raise SecondFactorCodeInvalid()
    totp = TOTP(unhexlify(key.encode()), TOTP_STEP, 0, TOTP_DIGITS, offset)
    totp.time = now
    device = TOTPDevice.objects.create(
        user=user,
        name="default",
        key=key,
        step=TOTP_STEP,
        t0=0,
        digits=TOTP_DIGITS,
        tolerance=TOTP_TOLERANCE,
        drift=offset,
        last_t=totp.t(),
        confirmed=True,
    )
    codes = _backup_codes_replace(user=user)
    _second_factor_event(user=user, by=user, kind=SecondFactorEvent.Kind.ENROLLED, ip=ip)
    return Enrolment(device=device, backup_codes=codes)


@transaction.atomic
def backup_codes_regenerate(*, user: User, ip: str | None = None) -> list[str]:
    """Replace every backup code of `user` with BACKUP_CODE_COUNT new ones (returned in clear,
    to be shown once); the old ones stop working. SecondFactorNotEnrolled without an
    authenticator app. One event row: `backup_codes`."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorNotEnrolled()
    codes = _backup_codes_replace(user=user)
    _second_factor_event(user=user, by=user, kind=SecondFactorEvent.Kind.BACKUP_CODES, ip=ip)
    return codes


@transaction.atomic
def second_factor_reset(*, user: User, by: User, ip: str | None = None) -> int:
    """Delete every device of `user` (the authenticator app and the backup codes), returning how
    many there were: at the next login, the password leads to enrolment again (when the second
    factor is required), and a session verified by a deleted device is verified no more. Only a
    superuser may (SecondFactorResetRefused, nothing written). One event row `reset` when there
    was something to delete."""
    if not by.is_superuser:
        raise SecondFactorResetRefused()
    deleted = 0
    for model in (TOTPDevice, StaticDevice):
        _, per_model = model.objects.filter(user=user).delete()  # a static device's codes go with it
        deleted += per_model.get(model._meta.label, 0)
    if deleted:
        _second_factor_event(user=user, by=by, kind=SecondFactorEvent.Kind.RESET, ip=ip)
    return deleted


def second_factor_code_refused(*, user: User, ip: str | None = None) -> SecondFactorEvent:
    """Record a wrong code (authenticator or backup) given at the admin login after the right
    password: someone who has the password is guessing, or a user mistyped. One event row."""
    return _second_factor_event(user=user, by=user, kind=SecondFactorEvent.Kind.CODE_REFUSED, ip=ip)


# --- the admin's writes of organizations and users (superusers) --------------------------------------

ORGANIZATION_FIELDS = frozenset({"code", "name", "kind"})
USER_FIELDS = frozenset(
    {"username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser", "role", "organization"}
)


def _fields_check(changes: dict, allowed: frozenset[str]) -> None:
    for name in changes:
        if name not in allowed:
            raise InvalidInput(f"{name} cannot be changed here.", field=name, code="field_not_editable")


@transaction.atomic
def organization_create(*, code: str, name: str, kind: str, by: User) -> Organization:
    """A new participant or operator organization (a code taken: 409 `organization_code_taken`)."""
    if Organization.objects.filter(code=code).exists():
        raise Conflict(f"An organization {code} exists already.", field="code", code="organization_code_taken")
    organization = Organization(code=code, name=name, kind=kind)
    history_as(organization, by=by)
    organization.save()
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, changes: dict, by: User) -> Organization:
    """Write `changes` (code, name, kind) to the organization, its row locked."""
    _fields_check(changes, ORGANIZATION_FIELDS)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if "code" in changes and Organization.objects.filter(code=changes["code"]).exclude(pk=organization.pk).exists():
        raise Conflict(
            f"An organization {changes['code']} exists already.", field="code", code="organization_code_taken"
        )
    for name, value in changes.items():
        setattr(organization, name, value)
    history_as(organization, by=by)
    organization.save(update_fields=list(changes))
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, by: User) -> None:
    """Delete an organization nobody belongs to (409 `organization_in_use` otherwise)."""
    if organization.users.exists():
        raise Conflict(f"{organization.code} still has users.", field="organization", code="organization_in_use")
    history_as(organization, by=by)
    organization.delete()


@transaction.atomic
def user_create(*, username: str, password: str | None, by: User) -> User:
    """A new user with no role yet (the change page gives one): a password that passes the
    validators (PasswordTooWeak, nothing written), or none (it cannot log in with one)."""
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user {username} exists already.", field="username", code="username_taken")
    user = User(username=username)
    if password:
        _password_set(user=user, password=password)
    else:
        user.set_unusable_password()
    history_as(user, by=by)
    user.save()
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    changes: dict,
    by: User,
    groups: list[Group] | None = None,
    permissions: list[Permission] | None = None,
) -> User:
    """Write the admin's `changes` to a user, its row locked: a manufacturer belongs to an
    organization (400 `manufacturer_needs_organization`), a role's group follows the role, and
    `groups` / `permissions` (when given) replace the user's."""
    _fields_check(changes, USER_FIELDS)
    user = User.objects.select_for_update().get(pk=user.pk)
    for name, value in changes.items():
        setattr(user, name, value)
    if user.role == Role.MANUFACTURER and user.organization_id is None:
        raise InvalidInput(
            "A manufacturer must belong to an organization.",
            field="organization",
            code="manufacturer_needs_organization",
        )
    history_as(user, by=by)
    if changes:
        user.save(update_fields=list(changes))
    if groups is not None:
        role_group = [Group.objects.get(name=user.role)] if user.role else []
        user.groups.set({*groups, *role_group})
    if permissions is not None:
        user.user_permissions.set(permissions)
    return user


@transaction.atomic
def user_delete(*, user: User, by: User) -> None:
    """Delete a user who has done nothing recorded (the admin shows what protects the others);
    a user never deletes themself (409 `own_account`)."""
    if user.pk == by.pk:
        raise Conflict("You cannot delete your own account.", field="user", code="own_account")
    history_as(user, by=by)
    user.delete()


@transaction.atomic
def user_password_disable(*, user: User) -> User:
    """Leave `user` without a usable password (no password login; its API tokens are revoked by
    the database as for any change of the password)."""
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user
