"""Response rates of a census of invited people, in the style of AAPOR's Standard Definitions.

Source: The American Association for Public Opinion Research, *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition (2023), section "Response
rates" and "Cooperation rates". Every invited person of our lists is eligible by construction
(named delegates, leaders, civil servants), so the unknown-eligibility terms (UH, UO, e) vanish:

    RR1   = I / (I + P + R + NC + O) = completes / invited
    RR2   = (I + P) / invited                       (partials count as responses)
    COOP1 = I / (I + P + R + O)      = completes / people contacted

where I are complete answers, P partial ones (a draft saved and not sent), R refusals (asked for
no more messages), NC non-contacts and O other. "Contacted" is what the product can see of a
contact: the person followed their link, saved a draft, answered or opted out.

For counter groups there is no list of people, so the product reports *coverage*: valid answers
against the procedures the unit handled in the period (the frame), a share that says how much of
the unit's traffic the survey reached, not a response rate.

>>> rates(invited=20, completed=9, partial=2, contacted=14)
Rates(rr1=0.45, rr2=0.55, coop1=0.6428571428571429)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rates:
    rr1: float | None
    rr2: float | None
    coop1: float | None


def rates(*, invited: int, completed: int, partial: int, contacted: int) -> Rates:
    """RR1, RR2 and COOP1 (None where the denominator is zero).

    Parameters: counts of invited (eligible) people, complete answers, partial answers (not among
    the complete) and people contacted (including those who completed or gave a partial answer).
    """
    if min(invited, completed, partial, contacted) < 0:
        raise ValueError("counts cannot be negative")
    if completed + partial > invited or completed + partial > contacted or contacted > invited:
        raise ValueError("completed + partial ≤ contacted ≤ invited")
    return Rates(
        rr1=completed / invited if invited else None,
        rr2=(completed + partial) / invited if invited else None,
        coop1=completed / contacted if contacted else None,
    )


def coverage(valid: int, frame: int | None) -> float | None:
    """Valid counter answers as a share of the procedures in the frame (None without a frame)."""
    if frame is None or frame <= 0:
        return None
    return valid / frame
