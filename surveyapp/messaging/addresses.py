"""Checking and writing the addresses messages go to: e-mail by its syntax, phone numbers as
Vietnamese mobile numbers by Google's libphonenumber data (the ``phonenumbers`` package: it knows
every carrier's prefixes, including the 2018 renumbering, so we keep no list of our own)."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

from .errors import Problem

EMAIL_RE = re.compile(r"^[^@\s\"<>(),;:]+@[^@\s\"<>(),;:]+\.[^@\s\"<>(),;:]+$")


def email_problem(value: str) -> str | None:
    value = value.strip()
    if not value:
        return Problem.NO_ADDRESS.text(what="địa chỉ email")
    if not EMAIL_RE.match(value) or len(value) > 200:
        return Problem.BAD_EMAIL.text(value=value)
    return None


def mobile(value: str) -> str | None:
    """A Vietnamese mobile number in international form without "+" (``84912345678``, as eSMS and
    Zalo take it), or None when ``value`` is not one."""
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return f"84{number.national_number}"


def phone_problem(value: str) -> str | None:
    if not value.strip():
        return Problem.NO_ADDRESS.text(what="số điện thoại")
    return None if mobile(value) else Problem.BAD_PHONE.text(value=value.strip())
