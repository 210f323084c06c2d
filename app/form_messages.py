"""WTForms' own messages, marked here so that they are in the app's catalogues.

WTForms ships no Turkmen translation. ``FormTranslations`` looks a message up in
the app's catalogue first and falls back to WTForms' own catalogue (which has
Russian), so a message translated here wins and none is left in English.
"""

from __future__ import annotations

from flask_babel import get_locale, get_translations
from flask_wtf.i18n import translations as wtforms_translations


def N_(message: str) -> str:  # noqa: N802 (the name Babel extracts)
    return message


def ngettext(singular: str, plural: str, n: int = 1) -> tuple[str, str]:
    return singular, plural


#: Every message of WTForms (and Flask-WTF's CSRF check) a participant may read.
MESSAGES = (
    N_("Invalid field name '%s'."),
    N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Date must be at least %(min)s."),
    N_("Date must be at most %(max)s."),
    N_("Date must be between %(min)s and %(max)s."),
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid IP address."),
    N_("Invalid Mac address."),
    N_("Invalid URL."),
    N_("Invalid UUID."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid value, can't be any of: %(values)s."),
    N_("This field cannot be edited."),
    N_("This field is disabled and cannot have a value."),
    N_("Invalid CSRF Token."),
    N_("CSRF token missing."),
    N_("CSRF failed."),
    N_("CSRF token expired."),
    N_("Invalid Choice: could not coerce."),
    N_("Choices cannot be None."),
    N_("Not a valid choice."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid week value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
    ),
    ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
    ),
)


class FormTranslations:
    """The translations a form's ``Meta.get_translations`` hands to WTForms."""

    def gettext(self, string: str) -> str:
        # The catalogue's own lookups: WTForms fills in the %(...)s values itself.
        translated = get_translations().gettext(string)
        if translated != string or str(get_locale()) == "en":
            return translated
        return wtforms_translations.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        translated = get_translations().ngettext(singular, plural, n)
        if translated not in (singular, plural) or str(get_locale()) == "en":
            return translated
        return wtforms_translations.ngettext(singular, plural, n)


form_translations = FormTranslations()
