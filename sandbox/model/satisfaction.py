"""Provides satisfaction and churn: how a contact's resolution, effort and emotion become a rating and a risk.

Two ratings, because real teams are misled by the difference (docs/model.md §Satisfaction):

* ``survey_csat``: what a post-contact survey shows. A customer who believed a wrong answer thinks the issue is
  resolved and rates the contact as such.
* ``csat``: the journey. Each customer's issue is scored once, where its journey ends: a contact followed by a
  repeat contact is scored at the repeat (with the extra step it cost); a believed wrong answer that ends the
  journey is found out and never satisfied (the ledger scores it 0), and a customer who comes back after one
  starts angrier for having been misled.

P(satisfied) = channel CSAT × (1 if resolved else u) × (1 − δ)^steps × (1 − F), with steps = repeat contacts +
bot-to-human transfers + times the customer had to repeat information. Waiting and failed bot turns act
through F (sandbox.model.frustration). u = 1, δ = 0 and no misled step give back CSAT × (1 − F).
"""

from __future__ import annotations

import numpy as np

from sandbox.config.scenario import Churn, Satisfaction
from sandbox.model.outcomes import UNRESOLVED, Outcome

# Outcomes after which the issue really is settled; a callback is a promise kept later (one extra step).
RESOLVED = (Outcome.CONTAINED, Outcome.SERVED, Outcome.CALLBACK)


def satisfaction(f: np.ndarray, ceiling: np.ndarray, resolved: np.ndarray, steps: np.ndarray,
                 params: Satisfaction) -> np.ndarray:
    """Probability of a satisfied (top-2-box) rating for each contact."""
    outcome_factor = np.where(resolved, 1.0, params.unresolved)
    return ceiling * outcome_factor * (1.0 - params.per_extra_step) ** steps * (1.0 - f)


def churn_probability(f: np.ndarray, outcome: np.ndarray, repeat: np.ndarray, churn: Churn) -> np.ndarray:
    """SQM's defection rate for the outcome, × (0.5 + F): a customer at F = 0.5 churns at SQM's rate.

    ``repeat`` marks resolutions that took more than one contact (a transfer, a callback, a repeat contact).
    """
    base = np.where(repeat, churn.resolved_after_repeat, churn.resolved_first_contact)
    base = np.where(np.isin(outcome, UNRESOLVED), churn.unresolved, base)
    base = np.where(outcome == Outcome.CALLBACK, churn.resolved_after_repeat, base)
    return np.minimum(1.0, base * (0.5 + f))


def unavoidable_churn(f0: np.ndarray, churn: Churn) -> np.ndarray:
    """The churn a perfectly served customer would still have: resolved at the first contact, leaving no more
    upset than they came (F = their intent's emotional load). Only churn above it is a cost of the policy."""
    return np.minimum(1.0, churn.resolved_first_contact * (0.5 + f0))
