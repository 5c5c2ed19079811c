"""The results dashboard for each persona, on both databases: too few answers show only the count, small
groups are hidden in the table and in the SVG heatmap, the charts and the recommendations are there."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.report_pdf import report_pdf
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.test_report import pdf_text_of
from tests.conftest import Browser, World

TODAY = date.today()
WEAK = "continuity"  # the construct every realistic round scores low on
NOISY = "hierarchy"  # answered with no common thread: its alpha is flagged
KINDS = {
    "Brempton Police": ("police", "statutory"),
    "Brempton NHS Trust": ("health", "statutory"),
    "Brempton Children's Services": ("childrens_social_care", "statutory"),
    "Brempton Schools Alliance": ("education", "other_member"),
    "Brempton Youth Justice": ("youth_justice", "involved"),
    "Brempton Voluntary Action": ("voluntary", "involved"),
}


def organisation_ids(db: Session, world: World) -> dict[str, int]:
    """The partnership's organisations by name, adding any of ``KINDS`` that are missing."""
    found = {
        o.name: o.id
        for o in register.list_organisations(db, actor=world.manager, partnership_id=world.partnership_id)
    }
    for name, (kind, tier) in KINDS.items():
        if name not in found:
            found[name] = register.create_organisation(
                db,
                actor=world.manager,
                partnership_id=world.partnership_id,
                data=s.OrganisationCreate(name=name, kind=kind, tier=tier),
            ).id
    return found


def make_round(
    db: Session,
    world: World,
    *,
    groups: list[tuple[str | None, int]],
    title: str = "Barometer 2026",
    opens_ago: int = 40,
    closes_ago: int = 10,
    seed: int = 1,
    trust: float = 0.0,
    threshold: int = 5,
    unreversed: str | None = None,
) -> int:
    """A closed round of the built-in instrument with ``count`` respondents per organisation name (None:
    not told). Each respondent has their own level per construct, so items hang together (alpha), except
    ``NOISY``; ``WEAK`` leans to the obstacle side; ``trust`` shifts trust. The reverse-worded statements
    of the construct ``unreversed`` are answered as if they were not reverse-worded (a form that reversed
    them already, say), so its statements pull against each other."""
    rng = np.random.default_rng(seed)
    ids = organisation_ids(db, world)
    round_id = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title=title,
            opens_on=TODAY - timedelta(days=opens_ago),
            closes_on=TODAY - timedelta(days=closes_ago),
            anonymity_threshold=threshold,
        ),
    ).id
    instrument = default_instrument()
    rows = []
    for name, count in groups:
        for n in range(count):
            level = {c.key: 3.7 + rng.normal(0, 0.6) for c in instrument.constructs}
            level[WEAK] -= 1.6
            level["trust"] += trust
            answers: dict[str, int] = {}
            for item in instrument.items:
                centre = 3.3 if item.construct_key == NOISY else level[item.construct_key]
                value = int(
                    np.clip(round(rng.normal(centre, 0.5 if item.construct_key != NOISY else 1.3)), 1, 5)
                )
                reverse = item.reverse and item.construct_key != unreversed
                answers[item.key] = 0 if rng.random() < 0.04 else (6 - value if reverse else value)
            profile: dict[str, object] = {"hierarchy_tier": str(1 + (n % 5))}
            if name is not None:
                profile["organisation_id"] = ids[name]
            if n % 2 == 0:
                profile["profession_id"] = world.profession_id
            rows.append((profile, answers))
    barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=rows)
    results.release_results(db, actor=world.manager, round_id=round_id)
    db.commit()
    return round_id


REALISTIC = [
    ("Brempton Police", 17),
    ("Brempton NHS Trust", 14),
    ("Brempton Children's Services", 12),
    ("Brempton Schools Alliance", 9),
    ("Brempton Youth Justice", 3),  # too small: hidden, with the smallest other group (complementary)
    (None, 5),
]


def _url(world: World, round_id: int, tail: str = "") -> str:
    return f"/p/{world.partnership_id}/barometer/rounds/{round_id}/results{tail}"


def _svg(page: str, chart_id: str) -> str:
    match = re.search(rf'<svg [^>]*aria-labelledby="{chart_id}-t[^>]*>.*?</svg>', page, re.S)
    assert match, f"no {chart_id} chart on the page"
    return match.group(0)


def test_each_persona(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    round_id = make_round(db, world, groups=REALISTIC)
    url = _url(world, round_id)
    manager = browsers["manager"].get(url)
    assert manager.status_code == 200
    assert "No figure on this page describes fewer than 5 people." in manager.text
    assert "<strong>60</strong>" in manager.text  # respondents
    assert "Add the ticked suggestions as actions" in manager.text and 'name="pick"' in manager.text

    member = browsers["member"].get(url)
    assert member.status_code == 200 and "Recommendations" in member.text
    assert 'name="pick"' not in member.text and "/results/actions" not in member.text
    assert "Catalyst (002)" in member.text  # what helps is shown to members too

    assert browsers["outsider"].get(url).status_code == 404
    anonymous = browsers["anonymous"].get(url)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # Another partnership's URL for this round finds nothing, even for the manager.
    wrong = f"/p/{world.other_partnership_id}/barometer/rounds/{round_id}/results"
    assert browsers["manager"].get(wrong).status_code == 404
    assert browsers["manager"].get(_url(world, 99999)).status_code == 404


def test_dashboard_shows_tables_charts_and_links(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    make_round(db, world, groups=REALISTIC, title="Barometer 2025", opens_ago=400, closes_ago=370, trust=-1.5)
    round_id = make_round(db, world, groups=REALISTIC, seed=2)
    page = browsers["member"].get(_url(world, round_id)).text
    for caption in (
        "Obstacles and catalysts (002 Table 1)",
        "What makes collaboration work (003)",
        "Collaborative agency (004)",
    ):
        assert f"<caption>{caption}</caption>" in page
    assert "<summary>Continuity of membership</summary>" in page  # the definition is behind it
    assert "Leans to the obstacle side: Discontinued membership to the partnership board." in page
    # NOISY's alpha: noise, so low, or below 0 (the statements then pull against each other).
    assert "items disagree: read with care" in page or "negative: the statements pull against" in page
    profile = _svg(page, "profile")
    assert re.search(r"alpha -?0\.[0-5]\d", profile)
    # Trend: trust went up by far more than the noise.
    assert "Change since Barometer 2025" in page and _svg(page, "trend")
    assert re.search(r"<strong>up 1\.\d \(95% CI", page)
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    for href in ("/report", "/report.pdf", "/results.csv", "/results.xlsx"):
        assert f'href="{base}{href}"' in page
    # Recommendations: the weakest construct first, with what helps from each document.
    recommendations = page.split('id="recommendations"')[1]
    assert recommendations.index("Continuity of membership") < recommendations.index("Catalyst (002)")
    assert "Recommendation (003)" in recommendations and "Tool (004)" in recommendations
    # The round page and the rounds list link here.
    assert f'href="{base}/results"' in browsers["member"].get(base).text
    assert f'href="{base}/results"' in browsers["member"].get(f"/p/{world.partnership_id}/barometer").text


def test_too_few_respondents_show_only_the_count(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = make_round(db, world, groups=[("Brempton Police", 4)])
    page = browsers["manager"].get(_url(world, round_id))
    assert page.status_code == 200
    assert "4 people have answered so far" in page.text
    assert "Results appear once at least 5 people have answered" in page.text
    for absent in ("<svg", "<table", "Recommendations", "results.csv", "Mean", 'name="pick"'):
        assert absent not in page.text, absent


def test_a_small_group_is_hidden_in_the_table_and_the_heatmap(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = make_round(db, world, groups=REALISTIC)
    page = browsers["member"].get(_url(world, round_id, "?by=organisation")).text
    heatmap = _svg(page, "heatmap")
    assert 'id="heatmap-hatch"' in heatmap
    label = re.search(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>Brempton Youth Justice</text>', heatmap)
    assert label, "the small organisation has a row"
    row_y = float(label.group(1)) - 12  # the label's baseline sits 12 below the row's top
    cells = re.findall(
        rf'<rect x="[\d.]+" y="{row_y:.1f}" width="29.0" height="17.0" fill="([^"]+)"', heatmap
    )
    assert len(cells) == len(default_instrument().constructs)
    assert all(fill == "url(#heatmap-hatch)" for fill in cells)
    row_texts = re.findall(rf'<text x="[\d.]+" y="{label.group(1)}"[^>]*>([^<]*)</text>', heatmap)
    assert row_texts == ["Brempton Youth Justice"]  # no number in its row
    # The same in the table: hidden for being small, and the smallest other group ("Not told", 5) to
    # protect it, in the same words, so the page does not say which of the two is the small one.
    hidden_row = r'<th scope="row">{}</th>\s*<td colspan="19" class="hidden-cell">hidden \({}\)'
    assert re.search(hidden_row.format("Brempton Youth Justice", "protects small groups"), page)
    assert re.search(hidden_row.format("Not told", "protects small groups"), page)
    police = re.search(r'<th scope="row">Brempton Police</th>\s*<td class="num">(\d+)</td>', page)
    assert police and police.group(1) == "17"


def test_every_breakdown_shows_no_group_below_the_threshold(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = make_round(db, world, groups=REALISTIC, seed=5)
    for by, label in (
        ("organisation", "Organisation"),
        ("profession", "Profession"),
        ("hierarchy_tier", "Hierarchy tier"),
        ("wt_tier", "Working Together tier"),
    ):
        page = browsers["member"].get(_url(world, round_id, f"?by={by}"))
        assert page.status_code == 200
        assert f'<option value="{by}" selected>{label}</option>' in page.text
        table = page.text.split('<table class="breakdown-table">')[1].split("</table>")[0]
        shown = re.findall(r'<th scope="row">[^<]*</th>\s*<td class="num">(\d+)</td>', table)
        assert shown and all(int(n) >= 5 for n in shown), (by, shown)
    # An unknown breakdown falls back to the first one rather than failing.
    page = browsers["member"].get(_url(world, round_id, "?by=postcode"))
    assert page.status_code == 200 and '<option value="organisation" selected>' in page.text


def test_a_negative_alpha_says_what_it_means_on_the_page_and_in_the_report(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    # Momentum's reverse-worded statement arrives already reversed: its statements pull against each other.
    round_id = make_round(db, world, groups=REALISTIC, unreversed="momentum")
    report = results.round_report(db, actor=world.member, round_id=round_id)
    momentum = next(line.result for line in report.lines if line.construct.key == "momentum")
    assert momentum.alpha is not None and momentum.alpha < 0
    assert momentum.alpha_flag and momentum.alpha_negative
    page = browsers["member"].get(_url(world, round_id)).text
    row = next(r for r in page.split("<tr>") if "<summary>Momentum</summary>" in r)
    assert f"{momentum.alpha:.2f}" in row
    assert "negative: the statements pull against each other (a reverse-worded statement not reversed" in row
    assert "items disagree" not in row
    assert "computed listwise: only on the people who answered every statement" in page
    assert f"alpha {momentum.alpha:.2f} (negative)" in _svg(page, "profile")
    text = pdf_text_of(report_pdf(report, "Brempton Test Partnership"))
    assert f"Momentum {momentum.mean:.2f}" in text and f"{momentum.alpha:.2f} (negative)" in text
    assert "computed listwise" in text and "It can be negative" in text
