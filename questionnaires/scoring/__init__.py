"""Scoring: rules files, the computation of points from answer counts, and statistics."""

from .compute import CriterionScore, LevelCount, Satisfaction, ScoreTable, UnitScore, satisfaction, score
from .rules import Band, Criterion, Rules, RulesError, Source, load_rules_text
from .stats import cronbach_alpha, cronbach_alpha_from_sums, units_differ, wilson_interval

__all__ = [
    "Band",
    "Criterion",
    "CriterionScore",
    "LevelCount",
    "Rules",
    "RulesError",
    "Satisfaction",
    "ScoreTable",
    "Source",
    "UnitScore",
    "cronbach_alpha",
    "cronbach_alpha_from_sums",
    "load_rules_text",
    "satisfaction",
    "score",
    "units_differ",
    "wilson_interval",
]
