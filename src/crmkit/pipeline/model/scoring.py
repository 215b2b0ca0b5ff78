"""Lead scoring: which leads to call first, and why.

Two scorers, both explainable per lead:

- :func:`score_by_rules` adds points from rules the tenant writes (source is
  ``referral``: +30; industry is ``电子``: +10), points for completeness (each of
  phone, email, company present) and for recent activity.
- :class:`LearnedScorer` learns from the tenant's own history of converted and
  dropped leads. It is a naive-Bayes frequency model: for each property value
  (``source=referral``) it counts how often leads with it were won and lost, and
  combines the evidence assuming properties are independent. With Laplace
  smoothing (one imaginary win and loss for every value) an unseen value is
  neutral. The explanation lists each property's log-odds contribution, so a rep
  can see that "referral" pushed a lead up and "region 海外" pulled it down.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import attrs

from crmkit.pipeline.model.leads import Lead

__all__ = ["LearnedScorer", "ScoreCard", "ScoringRule", "lead_features", "score_by_rules"]

FEATURES = (
    "source",
    "industry",
    "region",
    "has_company",
    "has_phone",
    "has_email",
    "from_campaign",
)


@attrs.frozen
class ScoringRule:
    """``points`` when the lead's ``field`` equals ``value``."""

    field: str
    value: str
    points: int


@attrs.frozen
class ScoreCard:
    """A score with the reasons that make it up, largest first."""

    total: float
    reasons: tuple[tuple[str, float], ...]


def lead_features(lead: Lead) -> dict[str, str]:
    """The properties both scorers read, as text."""
    return {
        "source": lead.source or "-",
        "industry": lead.industry or "-",
        "region": lead.region or "-",
        "has_company": str(bool(lead.company)),
        "has_phone": str(bool(lead.phone)),
        "has_email": str(bool(lead.email)),
        "from_campaign": str(lead.campaign_id is not None),
    }


def score_by_rules(
    lead: Lead,
    rules: Iterable[ScoringRule],
    now: datetime,
    *,
    completeness_points: int = 5,
    recent_days: int = 7,
    recent_points: int = 10,
) -> ScoreCard:
    """Rule-based score: matching rules + completeness + recent activity."""
    features = lead_features(lead)
    reasons: list[tuple[str, float]] = []
    for rule in rules:
        value = features.get(rule.field, str(getattr(lead, rule.field, None)))
        if value == rule.value:
            reasons.append((f"{rule.field}={rule.value}", float(rule.points)))
    for field in ("company", "phone", "email"):
        if getattr(lead, field):
            reasons.append((f"has {field}", float(completeness_points)))
    if lead.last_activity_at and now - lead.last_activity_at <= timedelta(days=recent_days):
        reasons.append((f"activity in the last {recent_days} days", float(recent_points)))
    reasons.sort(key=lambda r: -abs(r[1]))
    return ScoreCard(sum(points for _, points in reasons), tuple(reasons))


@attrs.frozen
class LearnedScorer:
    """A naive-Bayes model of "will this lead convert?" fitted on the tenant's history."""

    won: int
    lost: int
    won_counts: Mapping[tuple[str, str], int]
    lost_counts: Mapping[tuple[str, str], int]
    values: Mapping[str, int]

    @classmethod
    def fit(cls, history: Iterable[tuple[Mapping[str, str], bool]]) -> LearnedScorer:
        """Count property values among converted (``True``) and dropped leads."""
        won_counts: Counter[tuple[str, str]] = Counter()
        lost_counts: Counter[tuple[str, str]] = Counter()
        seen: dict[str, set[str]] = {}
        won = lost = 0
        for features, converted in history:
            target = won_counts if converted else lost_counts
            for item in features.items():
                target[item] += 1
                seen.setdefault(item[0], set()).add(item[1])
            won, lost = (won + 1, lost) if converted else (won, lost + 1)
        return cls(
            won,
            lost,
            dict(won_counts),
            dict(lost_counts),
            {name: len(values) for name, values in seen.items()},
        )

    def explain(self, features: Mapping[str, str]) -> ScoreCard:
        """Probability of conversion (0..100) and each property's log-odds contribution."""
        prior = math.log((self.won + 1) / (self.lost + 1))
        reasons: list[tuple[str, float]] = []
        for name, value in features.items():
            distinct = self.values.get(name, 0) + 1
            p_won = (self.won_counts.get((name, value), 0) + 1) / (self.won + distinct)
            p_lost = (self.lost_counts.get((name, value), 0) + 1) / (self.lost + distinct)
            reasons.append((f"{name}={value}", math.log(p_won / p_lost)))
        log_odds = prior + sum(weight for _, weight in reasons)
        probability = 100.0 / (1.0 + math.exp(-log_odds))
        reasons.sort(key=lambda r: -abs(r[1]))
        return ScoreCard(round(probability, 1), tuple((n, round(w, 3)) for n, w in reasons))

    def score(self, lead: Lead) -> ScoreCard:
        """The learned score of one lead."""
        return self.explain(lead_features(lead))
