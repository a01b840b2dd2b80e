"""juki's form renderer writes the choice widgets' options inline: the markup must be Django's own,
character for character, for any choices, values and attributes (juki.ui.renderers)."""
from django import forms
from django.forms.renderers import DjangoTemplates
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.ui.renderers import FormRenderer

_text = st.text(alphabet=st.sampled_from(list("abcあア漢1 <>&\"'")), min_size=0, max_size=6)
_choices = st.lists(st.tuples(st.text(alphabet="abcxyz019", min_size=1, max_size=4), _text), min_size=0, max_size=5,
                    unique_by=lambda c: c[0])
_grouped = st.one_of(_choices, st.lists(st.tuples(_text.filter(bool), _choices.filter(bool)), min_size=1, max_size=3))
_attrs = st.dictionaries(st.sampled_from(["class", "id", "disabled", "required", "data-x", "hx-get"]),
                         st.one_of(st.booleans(), _text), max_size=4)
_WIDGETS = [forms.RadioSelect, forms.CheckboxSelectMultiple, forms.Select, forms.SelectMultiple]


@settings(max_examples=150, deadline=None)
@given(widget=st.sampled_from(_WIDGETS), choices=_grouped, attrs=_attrs, name=st.sampled_from(["kind", "persons"]),
       pick=st.integers(0, 4), none=st.booleans())
def test_the_options_are_djangos_markup(widget, choices, attrs, name, pick, none):
    flat = [v for v, _ in choices if not isinstance(_, list)] + [v for _, group in choices if isinstance(group, list)
                                                                  for v, _label in group]
    value = None if none or not flat else ([flat[pick % len(flat)]] if widget in (forms.CheckboxSelectMultiple,
                                                                                   forms.SelectMultiple)
                                           else flat[pick % len(flat)])
    w = widget(attrs=attrs, choices=choices)
    assert w.render(name, value, renderer=FormRenderer()) == w.render(name, value, renderer=DjangoTemplates())


def test_the_setting_uses_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FormRenderer)
