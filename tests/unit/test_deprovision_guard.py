"""The mass-deprovision guard's rules (services/directory/deprovision_guard.py)."""

from datetime import timedelta

import pytest

from runtime.errors import ServiceError
from services.directory.deprovision_guard import GuardPolicy, StatusChange, held_back, status_change


def test_the_allowance_is_a_share_of_the_members_active_when_the_window_began():
    guard = GuardPolicy(enabled=True, percent=20)
    assert guard.allowance(active_now=100, applied_in_window=0) == 20
    # After 15 deprovisions 85 are active: the share is still of the 100.
    assert guard.allowance(active_now=85, applied_in_window=15) == 20
    assert GuardPolicy(enabled=True, percent=20, max_count=5).allowance(100, 0) == 5  # the stricter limit
    assert GuardPolicy(enabled=True, max_count=3).allowance(1000, 2) == 3
    assert GuardPolicy(enabled=True, percent=10).allowance(5, 0) == 1  # a small directory may still lose one


@pytest.mark.parametrize("fields", [
    {"percent": 101}, {"percent": -1}, {"max_count": -2}, {"window": timedelta(0)},
    {"window": timedelta(days=31)}, {"auto_apply_after": timedelta(0)}, {"enabled": True},
])
def test_a_guard_that_means_nothing_is_refused(fields):
    with pytest.raises(ServiceError) as caught:
        GuardPolicy(**fields)
    assert caught.value.reason == "INVALID_VALUE"


def test_off_unless_enabled_with_a_limit():
    assert not GuardPolicy().guards
    assert not GuardPolicy(enabled=False, percent=20).guards
    assert GuardPolicy(enabled=True, percent=20).guards


@pytest.mark.parametrize("effective, held, desired, expected", [
    # No hold: deactivating or deleting an active member is a deprovision.
    ("active", None, "deactivated", StatusChange("deactivated", None, "deactivate")),
    ("active", None, "deleted", StatusChange("deleted", None, "delete")),
    ("active", None, "active", StatusChange("active", None)),
    # Deleting a deactivated member, or reactivating one, takes nothing away.
    ("deactivated", None, "deleted", StatusChange("deleted", None)),
    ("deactivated", None, "active", StatusChange("active", None)),
    # A held deactivation: other attributes change and the hold stays; the IdP may take it back.
    ("active", "deactivated", "deactivated", StatusChange("active", "deactivated")),
    ("active", "deactivated", "active", StatusChange("active", None, releases_hold=True)),
    # ... or go further: the deletion is a deprovision of its own.
    ("active", "deactivated", "deleted", StatusChange("deleted", None, "delete")),
])
def test_what_a_write_does_to_a_members_status(effective, held, desired, expected):
    assert status_change(effective, held, desired) == expected


def test_a_held_deprovision_leaves_the_member_active_for_the_app():
    assert held_back(StatusChange("deactivated", None, "deactivate")) == StatusChange("active", "deactivated", "deactivate")
    assert held_back(StatusChange("deleted", None, "delete")) == StatusChange("active", "deleted", "delete")
