"""Questionnaire definitions: the files in this folder, their loader and their typed model.

Pure Python: nothing here knows about the web or the database.
"""

from pathlib import Path

from .errors import DefinitionError, DefinitionProblem
from .loader import load_questionnaire, load_text
from .model import Condition, Option, Question, Questionnaire, QuestionType, Scale, Section, UnitsScope

BUILTIN_DIR = Path(__file__).parent / "builtin"


def builtin_files() -> list[Path]:
    """The questionnaires we ship, one YAML file each."""
    return sorted(BUILTIN_DIR.glob("*.yaml"))


__all__ = [
    "BUILTIN_DIR",
    "Condition",
    "DefinitionError",
    "DefinitionProblem",
    "Option",
    "Question",
    "QuestionType",
    "Questionnaire",
    "Scale",
    "Section",
    "UnitsScope",
    "builtin_files",
    "load_questionnaire",
    "load_text",
]
