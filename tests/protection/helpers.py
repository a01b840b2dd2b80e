"""State for the protection tests, built through the services."""
import datetime as dt

from juki.audit.gate import Actor
from juki.protection import services
from juki.register.services import changes
from juki.register.services.people import Address
from tests.helpers import last_log  # noqa: F401 - re-exported for the protection tests

from ..conftest import KOKURA_JOUNAI, days_ago, person_input

VICTIM_BIRTH = dt.date(1990, 2, 3)
OFFENDER_BIRTH = dt.date(1988, 7, 7)
OFFENDER = services.Offender(name="山田　次郎", kana="ヤマダ　ジロウ", birth_date=OFFENDER_BIRTH,
                             note="福岡市在住（住所は申出書のとおり）")


def move_in_victim(actor: Actor) -> dict:
    """山田 花子 and her child さくら, a new household in 小倉北区城内 3番3号."""
    result = changes.move_in(
        actor=actor, event_date=days_ago(20), notified_on=days_ago(20), origin="domestic",
        persons=[
            person_input(family_name="山田", given_name="花子", family_name_kana="ヤマダ", given_name_kana="ハナコ",
                         birth_date=VICTIM_BIRTH, sex=2, domicile_head="山田　次郎"),
            person_input(family_name="山田", given_name="さくら", family_name_kana="ヤマダ", given_name_kana="サクラ",
                         birth_date=dt.date(2018, 9, 9), sex=2, relationship="子", domicile_head="山田　次郎"),
        ],
        destination=changes.NEW, address=Address(KOKURA_JOUNAI, "3番3号"), previous_address="福岡県福岡市中央区天神一丁目1番1号",
        confirmed_new_person=True,
    )
    return {"mother": result.persons[0]["id"], "child": result.persons[1]["id"], "household": result.households[0]["id"],
            "atena": result.persons[0]["atena_number"]}


def protect(actor: Actor, victim: dict, *, provisional: bool = False, start: dt.date | None = None, **kw) -> dict:
    return services.support_register(
        actor=actor, person_id=victim["mother"], kind="dv", applied_on=start or days_ago(3), offender=kw.pop("offender", OFFENDER),
        provisional=provisional, start=start, members=[(victim["child"], "子")], **kw)


