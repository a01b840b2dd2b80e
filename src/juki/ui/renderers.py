"""The form renderer of every juki form (`FORM_RENDERER`).

Django's, except that the choice widgets (radio buttons, check boxes, selects) write each option
inline instead of including three templates per option: the 証明 and 転居 forms have dozens of
options, and the includes cost 6.5–8.9 ms of a form's request (issue 18, load profile). The markup is
Django's own, character for character (`tests/ui/test_renderers.py`)."""
from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import cached_property


class FormRenderer(DjangoTemplates):
    @cached_property
    def engine(self):
        return self.backend({
            "APP_DIRS": True,
            "DIRS": [Path(__file__).parent / "form_templates", Path(django.forms.__file__).parent / "templates"],
            "NAME": "jukiforms", "OPTIONS": {},
        })
