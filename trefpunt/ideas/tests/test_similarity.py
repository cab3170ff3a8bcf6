# ruff: noqa: E501 - the fixture keeps each pair on its lines, readable side by side
"""Similar ideas on a fixture of paraphrased pairs in Dutch and English, written for this
test: each paraphrase must find its original among the top 3 suggestions for at least 90 %
of the pairs, and ideas about something else must stay below ``SUGGEST_MIN_SCORE``."""

from __future__ import annotations

import pytest

from trefpunt.ideas.selectors import similar_ideas
from trefpunt.ideas.similarity import SUGGEST_MIN_SCORE, Index, features, words

from .factories import make_user, open_call, post

# (original, paraphrase): title, description
PAIRS: list[tuple[tuple[str, str], tuple[str, str]]] = [
    (("Reusable coffee cups", "Customers get a deposit cup they bring back next time."),
     ("Deposit on coffee mugs", "Charge a small deposit so people return the mug and we reuse it.")),
    (("Refill station for shampoo", "Let people bring their own bottles and refill shampoo in the shop."),
     ("Bring your own bottle", "A refill point where customers fill their own bottles with shampoo.")),
    (("Cardboard instead of plastic trays", "Replace the plastic meat trays with cardboard ones."),
     ("Swap plastic trays for cardboard", "Meat and cheese could be packed on cardboard, not plastic.")),
    (("Sell loose vegetables", "Stop wrapping cucumbers and peppers in plastic film."),
     ("No plastic around vegetables", "Cucumbers and peppers do not need plastic wrapping; sell them loose.")),
    (("Discount for your own bag", "Give a small discount when customers bring their own shopping bag."),
     ("Reward own shopping bags", "Customers who bring their own bag get a few cents off.")),
    (("Collect packaging at the checkout", "Let customers leave unwanted packaging at the till so we recycle it."),
     ("Packaging drop-off at the till", "A bin at the checkout where people leave packaging for recycling.")),
    (("Smaller delivery boxes", "Online orders arrive in boxes that are far too big; fit the box to the order."),
     ("Right-sized boxes for web orders", "Use boxes that fit the order instead of huge boxes with air.")),
    (("Paper straws only", "Ban plastic straws in the café and offer paper ones."),
     ("Replace plastic straws", "The café should only hand out straws made of paper.")),
    (("Bulk bins for nuts and rice", "Sell nuts, rice and pasta from bulk bins by weight."),
     ("Buy rice and nuts by weight", "Dispensers where you scoop rice, pasta or nuts into your own container.")),
    (("Digital receipts", "Email the receipt instead of printing it."),
     ("Receipts by email", "Stop printing receipts; send them by email or in the app.")),
    (("Herbruikbare bekers in de kantine", "Geef iedereen een vaste beker en schaf de wegwerpbekers af."),
     ("Vaste mok voor iedereen", "Wegwerpbekers in de kantine vervangen door een eigen mok die je hergebruikt.")),
    (("Statiegeld op plastic flesjes", "Vraag statiegeld op flesjes zodat klanten ze terugbrengen."),
     ("Flesjes met statiegeld terugnemen", "Klanten krijgen geld terug als ze hun plastic flesje inleveren.")),
    (("Minder verpakking bij webwinkelbestellingen", "Pakketten zitten vol lucht en plastic; gebruik kleinere dozen."),
     ("Kleinere dozen voor pakketten", "Webbestellingen komen in veel te grote dozen; pas de doos aan op de bestelling.")),
    (("Groente los verkopen", "Komkommers en paprika's niet meer in plastic folie verpakken."),
     ("Geen folie om komkommers", "Verkoop komkommers en paprika zonder plastic verpakking, gewoon los.")),
    (("Korting voor eigen tas", "Klanten die hun eigen boodschappentas meenemen krijgen korting."),
     ("Beloning voor eigen boodschappentas", "Wie een eigen tas meebrengt, betaalt een paar cent minder.")),
    (("Navulstation voor zeep", "Laat klanten hun eigen fles vullen met zeep en shampoo."),
     ("Zelf zeep navullen", "Een navulpunt in de winkel waar je je eigen flessen vult met shampoo of zeep.")),
    (("Bonnetje per e-mail", "Stop met het printen van kassabonnen en mail ze."),
     ("Digitale kassabon", "De kassabon niet meer printen maar via e-mail of de app sturen.")),
    (("Karton in plaats van plastic bakjes", "Vlees en kaas op kartonnen bakjes in plaats van plastic."),
     ("Plastic bakjes vervangen door karton", "Verpak kaas en vlees in karton, niet in plastic bakjes.")),
    (("Verpakkingen inleveren bij de kassa", "Een bak bij de kassa waar klanten overbodige verpakkingen achterlaten."),
     ("Verpakkingsafval terugnemen aan de kassa", "Klanten laten verpakkingen achter bij de kassa en wij recyclen die.")),
    (("Rijst en noten uit de bulk", "Verkoop rijst, pasta en noten per gewicht uit grote bakken."),
     ("Noten en rijst per gewicht", "Schep zelf rijst of noten in je eigen bakje en betaal per gewicht.")),
]  # fmt: skip

# Ideas of the same call about other things: they fill the call, and as queries they must
# not be suggested for any original above the threshold.
UNRELATED: list[tuple[str, str]] = [
    ("Longer opening hours on Sunday", "Open the shop until eight on Sundays."),
    ("Staff training in first aid", "Every team member should know basic first aid."),
    ("Loyalty app with points", "Collect points on every purchase and swap them for gifts."),
    ("Covered bicycle parking", "A roof over the bike racks in front of the entrance."),
    ("Music in the store", "Play calm music instead of the radio."),
    ("Fietsenstalling met dak", "Een overdekte stalling voor fietsen bij de ingang."),
    ("Langer open op zondag", "De winkel op zondag tot acht uur open houden."),
    ("Cursus EHBO voor personeel", "Elke medewerker leert eerste hulp bij ongelukken."),
    ("Spaarpunten in de app", "Punten sparen bij elke aankoop en inwisselen voor cadeaus."),
    ("Rustige muziek in de winkel", "Zachte muziek draaien in plaats van de radio."),
]


def _index() -> tuple[Index, dict[int, int]]:
    rows = [(i, features(t, d)) for i, ((t, d), _p) in enumerate(PAIRS)]
    rows += [(1000 + i, features(t, d)) for i, (t, d) in enumerate(UNRELATED)]
    return Index.build(rows), {i: i for i in range(len(PAIRS))}


def test_paraphrases_find_their_original_in_the_top_three() -> None:
    index, _ = _index()
    found = 0
    misses = []
    for i, (_original, (title, description)) in enumerate(PAIRS):
        top = [pk for pk, _score in index.query(features(title, description), limit=3)]
        if i in top:
            found += 1
        else:
            misses.append(title)
    share = found / len(PAIRS)
    print(
        f"paraphrase pairs found in the top 3: {found}/{len(PAIRS)} ({share:.0%}); missed: {misses}"
    )
    assert share >= 0.9, misses


def test_paraphrases_score_above_the_threshold() -> None:
    index, _ = _index()
    above = sum(
        any(
            pk == i and score >= SUGGEST_MIN_SCORE
            for pk, score in index.query(features(t, d), limit=3)
        )
        for i, (_o, (t, d)) in enumerate(PAIRS)
    )
    assert above / len(PAIRS) >= 0.9


def test_unrelated_ideas_are_not_suggested_above_the_threshold() -> None:
    rows = [(i, features(t, d)) for i, ((t, d), _p) in enumerate(PAIRS)]
    index = Index.build(rows)
    scores = [
        score
        for title, description in UNRELATED
        for _pk, score in index.query(features(title, description), limit=3)
    ]
    print(
        f"highest score of an unrelated idea: {max(scores, default=0):.3f} (threshold {SUGGEST_MIN_SCORE})"
    )
    assert max(scores, default=0.0) < SUGGEST_MIN_SCORE


def test_words_fold_accents_drop_stopwords_and_stem() -> None:
    assert words("De ideeën van onze klanten") == ["idee", "klant"]
    assert words("Reusing the cups") == ["reus", "cup"]


@pytest.mark.django_db
def test_similar_ideas_reads_the_calls_active_ideas_and_rebuilds_after_a_change() -> None:
    client = make_user()
    call = open_call(client)
    cups = post(call, title="Reusable coffee cups", description="A deposit cup you bring back.")
    post(call, title="Longer opening hours", description="Open until eight on Sundays.")

    hits = similar_ideas(
        call=call, title="Deposit on coffee mugs", description="bring the mug back"
    )
    assert [idea.pk for idea, _score in hits] == [cups.pk]

    mugs = post(call, title="Mugs with a deposit", description="Coffee mugs on deposit.")
    hits = similar_ideas(
        call=call, title="Deposit on coffee mugs", description="bring the mug back"
    )
    assert {idea.pk for idea, _score in hits} == {cups.pk, mugs.pk}
