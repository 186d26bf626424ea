"""The mass-deprovision guard's rules, pure: what a guard allows, and what a
change of a member's status means under it.

An identity provider's mistake (a group unassigned, a provisioning scope
changed) can deactivate or delete a whole customer in minutes. A guarded
connection lets at most its allowance of deprovisions take effect within its
window; past it, the IdP's writes are kept (its view over SCIM shows them)
but their effects are held (the member stays active for the app: no status
change, no role or session revocation, no member webhook) until someone
approves them (they take effect in the order they were held) or rejects
them. A deprovision is a deactivation of an active member, or the deletion
of an active member; deleting a member already deactivated takes nothing
more away and is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from runtime.errors import ServiceError
from runtime.settings import Settings, SettingsError

MAX_WINDOW = timedelta(days=30)
MAX_AUTO_APPLY = timedelta(days=30)


@dataclass(frozen=True)
class GuardPolicy:
    enabled: bool = False
    percent: int = 0  # of the connection's active members; 0: no share limit
    max_count: int = 0  # 0: no count limit
    window: timedelta = timedelta(hours=1)
    auto_apply_after: timedelta | None = None  # None: never by itself
    source: str = "project"  # or "connection"

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ServiceError("INVALID_VALUE", "percent must be 0 to 100")
        if self.max_count < 0:
            raise ServiceError("INVALID_VALUE", "max_count must not be negative")
        if not timedelta(seconds=1) <= self.window <= MAX_WINDOW:
            raise ServiceError("INVALID_VALUE", f"window_seconds must be 1 to {int(MAX_WINDOW.total_seconds())}")
        if self.auto_apply_after is not None and not timedelta(seconds=1) <= self.auto_apply_after <= MAX_AUTO_APPLY:
            raise ServiceError("INVALID_VALUE",
                               f"auto_apply_seconds must be 0 (never) or 1 to {int(MAX_AUTO_APPLY.total_seconds())}")
        if self.enabled and not (self.percent or self.max_count):
            raise ServiceError("INVALID_VALUE", "an enabled guard needs a percent or a max_count")

    @property
    def guards(self) -> bool:
        return self.enabled and bool(self.percent or self.max_count)

    def allowance(self, active_now: int, applied_in_window: int) -> int:
        """How many deprovisions may take effect within the window. The share
        is of the members active when the window began: those active now and
        those the window's deprovisions took away; it allows at least one, or
        a small directory could never deactivate anybody."""
        limits = []
        if self.percent:
            limits.append(max(1, self.percent * (active_now + applied_in_window) // 100))
        if self.max_count:
            limits.append(self.max_count)
        return min(limits)

    @classmethod
    def project_default(cls, settings: Settings) -> "GuardPolicy":
        percent, count = settings.deprovision_guard_percent, settings.deprovision_guard_count
        auto = settings.deprovision_guard_auto_apply_minutes
        try:
            return cls(
                enabled=bool(percent or count), percent=percent, max_count=count,
                window=timedelta(minutes=settings.deprovision_guard_window_minutes),
                auto_apply_after=timedelta(minutes=auto) if auto else None, source="project",
            )
        except ServiceError as error:
            raise SettingsError(f"SCIMD_DEPROVISION_GUARD_*: {error.message}") from None


@dataclass(frozen=True)
class StatusChange:
    """What a write does to a member's status: the status in effect for the
    app, the IdP's when it differs (held), and the deprovision to decide on."""

    status: str
    scim_status: str | None
    deprovision: str | None = None  # "deactivate" or "delete": the guard decides
    releases_hold: bool = False  # the IdP took back what was held


def status_change(effective: str, held: str | None, desired: str) -> StatusChange:
    """`effective` is the member's status for the app, `held` the IdP's status
    that is not in effect (a hold, or a rejected one; None: none), `desired`
    what the IdP's write says now (active, deactivated or deleted)."""
    if held is not None:
        if desired == held:
            return StatusChange(effective, held)  # other attributes changed: the hold stays
        if desired == effective:
            return StatusChange(effective, None, releases_hold=True)  # the IdP took it back
    if effective == "active" and desired in ("deactivated", "deleted"):
        return StatusChange(desired, None, deprovision="deactivate" if desired == "deactivated" else "delete")
    return StatusChange(desired, None)


def held_back(change: StatusChange) -> StatusChange:
    """The same write with its deprovision held: the member stays active for the app."""
    return StatusChange("active", change.status, deprovision=change.deprovision)
