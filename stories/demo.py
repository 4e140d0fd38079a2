"""Demo content for a new Storybank: colleagues, themes, outcome types and their aha stories.

`load_demo()` is safe to run on every start: everything is keyed (stories by external_id, people
by e-mail, themes and outcome types by slug), only what is missing is created, and an installation
that already has it all costs a handful of queries. Stories an editor has changed are never reset.
Cover images are drawn with Pillow in each story's theme colours; nothing is downloaded.
"""

from __future__ import annotations

import io
import logging
import math
import random
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter
from wagtail.images import get_image_model

from stories.importing import bulk_import_mode, import_records
from stories.models import HelpfulVote, OutcomeType, Person, StoryPage, Theme

DEMO_PREFIX = "demo-"
DEMO_READER_PREFIX = "demo-reader-"

# Theme name -> (description, gradient start, gradient end, accent).
THEMES = {
    "Working out loud": (
        "Sharing work in progress openly, so that others can help before it is finished.",
        "#1f6f5c",
        "#8fd1b5",
        "#f4f1de",
    ),
    "Finding an expert": (
        "Discovering who already knows the answer, inside or outside the company.",
        "#3d405b",
        "#8d99ae",
        "#f2cc8f",
    ),
    "Email to network": (
        "Moving a question from one inbox to the whole network, where more people can answer.",
        "#22577a",
        "#57cc99",
        "#c7f9cc",
    ),
    "Customer insight": (
        "Learning something about customers that changed what we do for them.",
        "#9c3d54",
        "#f2a07b",
        "#fff1d0",
    ),
    "Onboarding": (
        "How newcomers find their feet, and what helped them get there faster.",
        "#5a189a",
        "#c77dff",
        "#ffd6ff",
    ),
    "Remote collaboration": (
        "Working well together across sites, time zones and kitchen tables.",
        "#023e8a",
        "#48cae4",
        "#caf0f8",
    ),
    "Knowledge reuse": (
        "Using what someone already learned instead of learning it again the hard way.",
        "#6b4226",
        "#d4a373",
        "#fefae0",
    ),
    "Innovation": (
        "New ideas that came from putting people and problems together.",
        "#e76f51",
        "#f4a261",
        "#264653",
    ),
    "Trust and relationships": (
        "The relationships that made the difference when it mattered.",
        "#2d6a4f",
        "#b7e4c7",
        "#ffb4a2",
    ),
    "Leadership and culture": (
        "How leaders and habits shape whether people share what they know.",
        "#370617",
        "#d00000",
        "#ffba08",
    ),
}

OUTCOME_TYPES = {
    "Time saved": "Hours, days or weeks that did not have to be spent.",
    "Faster answer": "A question answered sooner than it would have been.",
    "Revenue won": "Business won or kept because of what someone knew.",
    "Cost avoided": "Money that did not have to be spent.",
    "Customer delighted": "A customer who noticed the difference.",
    "Risk avoided": "A mistake, incident or breach that did not happen.",
    "New idea": "An idea worth trying that came out of the story.",
    "Expert found": "Someone who knew the answer, found.",
    "Skill learned": "Something a person can now do that they could not before.",
}


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    role: str
    team: str
    bio: str
    strengths: tuple[str, ...]


PEOPLE = [
    DemoPerson(
        "Amara Okafor",
        "amara.okafor@example.org",
        "Head of Customer Support",
        "Customer Support",
        "Runs the support desk across three time zones. Believes the best answer is usually already "
        "written down somewhere, and that finding it is a team sport.",
        ("customer support", "escalations", "knowledge base"),
    ),
    DemoPerson(
        "Tomás Lindqvist",
        "tomas.lindqvist@example.org",
        "Senior Software Engineer",
        "Platform Engineering",
        "Keeps the build fast and the deploys boring. Writes short notes about every incident so the "
        "next person does not start from zero.",
        ("python", "ci pipelines", "incident review"),
    ),
    DemoPerson(
        "Priya Raman",
        "priya.raman@example.org",
        "Research Scientist",
        "Research",
        "Materials chemist who moved into applied research. Happiest at a whiteboard with someone "
        "from a completely different team.",
        ("materials testing", "experiment design", "statistics"),
    ),
    DemoPerson(
        "Hannah Becker",
        "hannah.becker@example.org",
        "Account Director",
        "Sales",
        "Looks after our largest accounts in the DACH region. Known for bringing engineers to customer "
        "meetings and for a very good spreadsheet of who knows what.",
        ("key accounts", "negotiation", "german market"),
    ),
    DemoPerson(
        "Kenji Watanabe",
        "kenji.watanabe@example.org",
        "Financial Controller",
        "Finance",
        "Closes the books every month and still finds time to explain cost centres to anyone who asks. "
        "Collects clever spreadsheet formulas.",
        ("budgeting", "procurement", "excel"),
    ),
    DemoPerson(
        "Sofia Marquez",
        "sofia.marquez@example.org",
        "People Partner",
        "People & Culture",
        "Designs onboarding and mentoring programmes. Asks every newcomer what they wish they had known "
        "in their first week, and writes it down.",
        ("onboarding", "mentoring", "coaching"),
    ),
    DemoPerson(
        "Daniel O'Connor",
        "daniel.oconnor@example.org",
        "Operations Manager",
        "Operations",
        "Runs the Dublin warehouse. Twenty years of logistics and still surprised by what the night "
        "shift knows that the day shift does not.",
        ("logistics", "lean", "health and safety"),
    ),
    DemoPerson(
        "Lena Fischer",
        "lena.fischer@example.org",
        "Product Manager",
        "Product",
        "Owns the customer portal. Reads every support ticket tagged with her product, and says it is "
        "the best hour of her week.",
        ("product discovery", "roadmaps", "user interviews"),
    ),
    DemoPerson(
        "Marcus Adeyemi",
        "marcus.adeyemi@example.org",
        "Data Analyst",
        "Research",
        "Turns messy data into charts people actually read. Runs the internal data clinic on Thursdays.",
        ("sql", "data visualisation", "forecasting"),
    ),
    DemoPerson(
        "Aisha Khan",
        "aisha.khan@example.org",
        "Legal Counsel",
        "Legal",
        "Contracts, privacy and export rules. Prefers a five-minute question early to a five-week "
        "problem later, and says so often.",
        ("contracts", "gdpr", "export control"),
    ),
    DemoPerson(
        "Jonas Berg",
        "jonas.berg@example.org",
        "Field Service Engineer",
        "Operations",
        "Fixes installed equipment at customer sites from Oslo to Gdańsk. Photographs everything.",
        ("field repairs", "hydraulics", "customer sites"),
    ),
    DemoPerson(
        "Chloé Dubois",
        "chloe.dubois@example.org",
        "Marketing Lead",
        "Marketing",
        "Tells our customers' stories in public, and our own stories inside. Started Storybank's "
        "first story circle.",
        ("storytelling", "campaigns", "french market"),
    ),
    DemoPerson(
        "Rafael Costa",
        "rafael.costa@example.org",
        "Customer Success Manager",
        "Sales",
        "Helps customers get value in their first ninety days. Keeps a list of colleagues who love "
        "to be asked hard questions.",
        ("customer onboarding", "renewals", "portuguese market"),
    ),
    DemoPerson(
        "Mei Lin",
        "mei.lin@example.org",
        "UX Researcher",
        "Product",
        "Watches people use our products and reports back, kindly but honestly.",
        ("usability testing", "interviews", "accessibility"),
    ),
    DemoPerson(
        "Oliver Grant",
        "oliver.grant@example.org",
        "Chief Operating Officer",
        "Leadership",
        "Joined as a shift supervisor twenty-two years ago. Answers internal network posts himself, "
        "usually before breakfast.",
        ("operations strategy", "turnarounds", "mentoring"),
    ),
    DemoPerson(
        "Fatima Zahra El Idrissi",
        "fatima.elidrissi@example.org",
        "Knowledge Manager",
        "Operations",
        "Curates Storybank and the internal wiki. Her favourite question is \u201cwho else should know this?\u201d",
        ("knowledge management", "taxonomy", "facilitation"),
    ),
    DemoPerson(
        "Nikolai Petrov",
        "nikolai.petrov@example.org",
        "Security Engineer",
        "Platform Engineering",
        "Thinks about how things break before they do. Runs the security office hours.",
        ("application security", "threat modelling", "cloud"),
    ),
    DemoPerson(
        "Grace Mensah",
        "grace.mensah@example.org",
        "Graduate Engineer",
        "Platform Engineering",
        "Joined from university in 2025. Keeps a public \u201ctoday I learned\u201d page that half the team now reads.",
        ("javascript", "testing", "documentation"),
    ),
]


def story(
    external_id,
    title,
    teller,
    themes,
    outcomes,
    occurred_on,
    context,
    aha,
    outcome,
    *,
    people=(),
    impact=None,
    visibility="public",
    featured=False,
    helpful=0,
    publish=True,
):
    """One demo story as an import record, plus the extras the demo sets afterwards."""
    impact_value, impact_unit = impact if impact else ("", "")
    return {
        "external_id": DEMO_PREFIX + external_id,
        "title": title,
        "teller": teller,
        "people": list(people),
        "themes": list(themes),
        "outcomes": list(outcomes),
        "occurred_on": occurred_on,
        "context": context,
        "aha": aha,
        "outcome": outcome,
        "impact_value": str(impact_value),
        "impact_unit": impact_unit,
        "visibility": visibility,
        "featured": featured,
        "publish": publish,
        "consent": True,
        "helpful": helpful,
    }


STORIES = [
    story(
        "001",
        "One post answered a question that had sat in my inbox for a week",
        "Amara Okafor",
        ["Email to network", "Finding an expert"],
        ["Faster answer", "Customer delighted"],
        "2022-03-14",
        "A customer in Lyon asked why their pump controllers lost settings after a power cut. I had "
        "emailed two engineers I knew; both were on leave, and the ticket sat there for a week.",
        "I posted the question on the internal network instead of emailing people one by one. Jonas "
        "replied within forty minutes: he had seen the same fault on site and knew it was a firmware "
        "setting.",
        "The customer had a fix the same afternoon. We now post stuck tickets to the network after "
        "24 hours, not after a week.",
        people=["Jonas Berg"],
        impact=(6, "days saved"),
        featured=True,
        helpful=34,
    ),
    story(
        "002",
        "Sharing a half-finished design saved us from building the wrong thing",
        "Lena Fischer",
        ["Working out loud", "Customer insight"],
        ["Time saved", "Risk avoided"],
        "2023-06-02",
        "We were three weeks into designing a new invoice screen for the customer portal. I usually "
        "wait until a design is polished before showing anyone.",
        "I shared the rough sketches in the product channel with a note saying \u201cthis is not "
        "ready, tell me what is wrong\u201d. Amara pointed out that most invoice tickets are about "
        "credit notes, which the design ignored.",
        "We rebuilt the screen around credit notes before writing a line of code. Invoice tickets "
        "dropped by a third in the quarter after launch.",
        people=["Amara Okafor", "Mei Lin"],
        impact=(4, "weeks of rework avoided"),
        featured=True,
        helpful=29,
    ),
    story(
        "003",
        "The expert on corrosion was two floors up",
        "Hannah Becker",
        ["Finding an expert", "Customer insight"],
        ["Revenue won", "Expert found"],
        "2021-11-09",
        "A shipbuilder in Hamburg wanted proof that our coatings would survive ten years of salt "
        "spray. The tender closed in four days and I was about to hire an outside consultant.",
        "I searched Storybank for \u201csalt spray\u201d and found Priya's story about accelerated "
        "corrosion tests. She had run exactly that test two years earlier, in our own lab.",
        "Priya joined the customer call, walked them through her data, and we won the tender. We "
        "also did not spend the consultant's fee.",
        people=["Priya Raman"],
        impact=(420000, "EUR contract won"),
        featured=True,
        helpful=31,
    ),
    story(
        "004",
        "A newcomer's question exposed a step nobody had written down",
        "Grace Mensah",
        ["Onboarding", "Working out loud"],
        ["Skill learned", "Time saved"],
        "2025-09-22",
        "In my second week I could not get the test database running. Everyone said \u201cit just "
        "works\u201d, and I felt silly asking again.",
        "I wrote my failed attempts on my \u201ctoday I learned\u201d page. Tomás read it and realised "
        "the setup script assumed a config file every long-timer had created years ago by hand.",
        "Tomás fixed the script the same day. The next three graduates were running tests on their "
        "first morning instead of their third day.",
        people=["Tomás Lindqvist", "Sofia Marquez"],
        impact=(2, "days saved per new engineer"),
        helpful=22,
    ),
    story(
        "005",
        "Night shift knew why the pallets kept tipping",
        "Daniel O'Connor",
        ["Knowledge reuse", "Trust and relationships"],
        ["Risk avoided", "Cost avoided"],
        "2022-01-18",
        "We had four pallet collapses in a month in the Dublin warehouse. The day shift blamed the "
        "wrapping machine and we had a quote for a new one.",
        "I started my shift at 10 p.m. for a week and asked the night team. They had noticed that "
        "pallets stacked after a delivery from one supplier always leaned: the cartons were 2 cm "
        "taller than the spec.",
        "We fixed the spec with the supplier instead of buying a machine. No collapses since.",
        people=["Oliver Grant"],
        impact=(38000, "EUR not spent on a new wrapper"),
        helpful=19,
    ),
    story(
        "006",
        "Copying last year's audit checklist halved the preparation",
        "Kenji Watanabe",
        ["Knowledge reuse"],
        ["Time saved"],
        "2023-02-27",
        "The external audit was coming and I was building the evidence list from scratch, as I did "
        "every year.",
        "Fatima asked whether anyone had written down what the auditors asked for last time. Aisha "
        "had: a checklist with every request and where the evidence lived.",
        "We started from Aisha's list, added four new items, and were ready in six days instead of "
        "twelve. The checklist now lives in the finance wiki.",
        people=["Aisha Khan", "Fatima Zahra El Idrissi"],
        impact=(6, "days saved"),
        helpful=14,
    ),
    story(
        "007",
        "Our best sales argument came from a support ticket",
        "Rafael Costa",
        ["Customer insight", "Knowledge reuse"],
        ["Revenue won", "New idea"],
        "2024-04-11",
        "A logistics customer in Porto was about to switch to a cheaper competitor at renewal.",
        "Reading their support history, I found a ticket where Amara's team had spotted a "
        "misconfiguration that was costing them energy. Nobody had ever told the customer's finance "
        "team.",
        "I took the numbers to the renewal meeting. They renewed for three years, and we now put "
        "support wins into every account review.",
        people=["Amara Okafor", "Hannah Becker"],
        impact=(150000, "EUR renewal kept"),
        helpful=21,
        visibility="staff",
    ),
    story(
        "008",
        "A shared document beat a month of video calls",
        "Priya Raman",
        ["Remote collaboration", "Working out loud"],
        ["Time saved", "Faster answer"],
        "2021-05-20",
        "Our lab in Pune and the team in Gdańsk were comparing test results in weekly calls. Every "
        "call began with twenty minutes of \u201cwhich version of the spreadsheet do you have?\u201d.",
        "We stopped meeting and wrote one shared results log instead, with a comment thread per "
        "sample. Questions got answered while the other site slept.",
        "The study finished a month early and the weekly call became a fortnightly one about "
        "decisions, not data.",
        people=["Marcus Adeyemi"],
        impact=(4, "weeks saved"),
        helpful=17,
    ),
    story(
        "009",
        "The contract clause that someone had already negotiated",
        "Aisha Khan",
        ["Knowledge reuse", "Finding an expert"],
        ["Time saved", "Risk avoided"],
        "2024-08-05",
        "A customer's lawyers insisted on an unlimited liability clause for data loss. I was preparing "
        "a long memo on why we could not accept it.",
        "I asked in the legal channel whether anyone had faced this before. A colleague in Sales "
        "operations remembered a 2022 deal where we agreed a capped clause with an insurance "
        "certificate instead.",
        "I reused that wording; the customer accepted it in one round. The clause is now in our "
        "contract playbook.",
        people=["Hannah Becker"],
        impact=(3, "weeks of negotiation saved"),
        helpful=12,
        visibility="staff",
    ),
    story(
        "010",
        "I learned SQL from the Thursday data clinic",
        "Sofia Marquez",
        ["Onboarding", "Knowledge reuse"],
        ["Skill learned"],
        "2023-10-12",
        "Every quarter I waited for someone in Data to pull our staff turnover figures.",
        "Marcus runs an open data clinic on Thursdays. I went with my question and left with a "
        "query I could run myself, and an understanding of what it did.",
        "I now answer turnover questions in minutes, and I have sent four colleagues from People & "
        "Culture to the clinic.",
        people=["Marcus Adeyemi"],
        impact=(5, "days a quarter saved"),
        helpful=15,
    ),
    story(
        "011",
        "The CEO answered my question on the network before breakfast",
        "Jonas Berg",
        ["Leadership and culture", "Email to network"],
        ["Faster answer"],
        "2022-07-07",
        "A customer asked whether we would keep supplying spare parts for a model we had stopped "
        "selling. I did not know who could decide that.",
        "I posted the question on the network expecting nothing. Oliver answered himself at 6.40 "
        "the next morning: yes, for ten years, and here is the policy.",
        "The customer signed a service contract. More important, people saw that a field engineer's "
        "question got a straight answer from the top.",
        people=["Oliver Grant"],
        impact=(1, "day to answer"),
        helpful=27,
        featured=True,
    ),
    story(
        "012",
        "Testing the prototype with five customers changed the colour of a button",
        "Mei Lin",
        ["Customer insight", "Innovation"],
        ["Customer delighted", "New idea"],
        "2024-02-19",
        "Our new order form tested well with colleagues. I had one week before launch.",
        "I ran five quick sessions with real customers. Four of the five missed the red \u201cconfirm\u201d "
        "button because red means \u201cstop\u201d on their machines' control panels.",
        "A green button and a clearer label went live. Abandoned orders fell from 18% to 7%.",
        people=["Lena Fischer"],
        impact=(11, "percentage points fewer abandoned orders"),
        helpful=20,
    ),
    story(
        "013",
        "A security question in a public channel found the hole before an attacker did",
        "Nikolai Petrov",
        ["Working out loud", "Leadership and culture"],
        ["Risk avoided"],
        "2025-01-28",
        "A developer asked in the engineering channel whether it was fine to log full request "
        "bodies while debugging. Normally such questions go to direct messages.",
        "Because the question was public, three other teams noticed they were doing the same, and "
        "one of them logged customer passwords in clear text.",
        "We fixed all four services in a day and added a check to the build. Asking in public is "
        "now what we recommend.",
        people=["Tomás Lindqvist"],
        impact=(4, "services fixed"),
        visibility="staff",
        helpful=18,
    ),
    story(
        "014",
        "Mapping who knows what saved the French launch",
        "Chloé Dubois",
        ["Finding an expert", "Innovation"],
        ["Expert found", "Time saved"],
        "2023-04-03",
        "We were launching in France with a tiny team and needed native speakers to review technical "
        "leaflets. The agency quote was two months.",
        "I searched people's declared strengths in Storybank for \u201cfrench\u201d and found eleven "
        "colleagues, including two engineers who had worked in Toulouse.",
        "They reviewed everything in a week, catching three technical terms the agency would have got wrong.",
        impact=(7, "weeks saved"),
        helpful=13,
    ),
    story(
        "015",
        "A forgotten study stopped us repeating a failed experiment",
        "Marcus Adeyemi",
        ["Knowledge reuse", "Innovation"],
        ["Cost avoided", "Time saved"],
        "2021-09-15",
        "Research proposed a six-month study of a cheaper binder for our coatings.",
        "While preparing the data I found a 2016 report on the same binder, filed under a different "
        "product name. It failed at low temperatures, exactly what we had not planned to test.",
        "We tested low temperatures first. It failed again, in two weeks instead of six months.",
        people=["Priya Raman"],
        impact=(90000, "EUR of lab time avoided"),
        helpful=16,
    ),
    story(
        "016",
        "Pairing with a customer's engineer fixed a bug we could not reproduce",
        "Tomás Lindqvist",
        ["Remote collaboration", "Trust and relationships"],
        ["Customer delighted"],
        "2024-11-06",
        "A customer reported that exports failed every Monday. We could not reproduce it in three "
        "weeks of trying.",
        "I asked Rafael to introduce me to their engineer, and we shared screens for an hour. Their "
        "Monday job exported 400,000 rows; ours tested with 1,000.",
        "The fix took a day. The customer's engineer now joins our beta programme.",
        people=["Rafael Costa"],
        impact=(3, "weeks of guessing ended"),
        helpful=11,
    ),
    story(
        "017",
        "My buddy's first-week map became everyone's",
        "Sofia Marquez",
        ["Onboarding", "Trust and relationships"],
        ["Time saved", "Skill learned"],
        "2022-05-16",
        "New starters told us the hardest part was not the work but not knowing whom to ask.",
        "A buddy in Operations had drawn a one-page map for her newcomer: ten people, what to ask "
        "each of them, and where they sit.",
        "We turned the map into a template. Each team now keeps its own, and newcomers rate their "
        "first month 1.2 points higher.",
        people=["Daniel O'Connor"],
        impact=(1.2, "points higher first-month rating"),
        helpful=24,
    ),
    story(
        "018",
        "An email to the whole network found a spare part in a day",
        "Jonas Berg",
        ["Email to network"],
        ["Faster answer", "Customer delighted"],
        "2023-12-20",
        "A hydraulic valve failed at a customer site in Gdańsk two days before Christmas. The "
        "supplier's lead time was three weeks.",
        "I emailed the network asking whether anyone had a spare. Daniel's warehouse had two, "
        "returned from a cancelled order.",
        "The valve arrived by courier the next morning and the customer's line ran through the holidays.",
        people=["Daniel O'Connor"],
        impact=(20, "days of downtime avoided"),
        helpful=23,
    ),
    story(
        "019",
        "A two-line summary at the top made the weekly report readable",
        "Oliver Grant",
        ["Leadership and culture", "Working out loud"],
        ["Time saved", "New idea"],
        "2021-03-08",
        "Our weekly operations report was twelve pages. I admitted in a leadership meeting that I "
        "only read the first page.",
        "Most of the room admitted the same. We asked every site to start with two lines: what went "
        "well, and where they need help.",
        "Help requests are now answered within the week, and the report is three pages.",
        impact=(9, "pages cut"),
        helpful=19,
    ),
    story(
        "020",
        "Asking procurement early saved a budget",
        "Priya Raman",
        ["Finding an expert", "Trust and relationships"],
        ["Cost avoided"],
        "2024-06-24",
        "We needed a new spectrometer and I had picked one after reading reviews.",
        "Kenji mentioned over lunch that procurement had a framework agreement with another "
        "supplier. Their equivalent model was 30% cheaper and included servicing.",
        "We bought through the framework and used the savings for a second instrument.",
        people=["Kenji Watanabe"],
        impact=(45000, "EUR saved"),
        helpful=9,
    ),
    story(
        "021",
        "Recording a two-minute video answered the same question forty times",
        "Amara Okafor",
        ["Knowledge reuse", "Customer insight"],
        ["Time saved", "Customer delighted"],
        "2025-03-17",
        "Every new customer asked how to reset the portal's two-factor login. My team answered it "
        "about forty times a month.",
        "I recorded a two-minute screen video and linked it in the first reply. Customers watched "
        "it instead of waiting for us.",
        "Those tickets fell by 80%, and customers rate the video 4.7 out of 5.",
        impact=(25, "hours a month saved"),
        helpful=20,
    ),
    story(
        "022",
        "A customer's complaint became our most popular feature",
        "Lena Fischer",
        ["Customer insight", "Innovation"],
        ["New idea", "Revenue won"],
        "2022-10-04",
        "A customer complained, at length, that they had to export data to Excel to compare two "
        "months of usage.",
        "Instead of defending the product, I asked them to show me the spreadsheet. Their comparison "
        "view was better than anything on our roadmap.",
        "We built it into the portal. It is now the feature most mentioned in sales demos.",
        people=["Mei Lin", "Hannah Becker"],
        impact=(12, "new accounts citing the feature"),
        helpful=15,
    ),
    story(
        "023",
        "Working from four countries, we agreed on one quiet hour",
        "Marcus Adeyemi",
        ["Remote collaboration", "Leadership and culture"],
        ["Time saved"],
        "2021-12-01",
        "Our analytics team spans Lagos, Dublin, Pune and Oslo. Meetings filled the only two hours "
        "we all shared.",
        "We made one of the two hours meeting-free and used it for questions in the team channel. "
        "Most meetings turned out to be questions.",
        "We cut meetings by six hours a week per person and answered questions faster.",
        impact=(6, "hours a week per person"),
        helpful=13,
    ),
    story(
        "024",
        "The warehouse's paper notes became a searchable log",
        "Fatima Zahra El Idrissi",
        ["Knowledge reuse", "Innovation"],
        ["Time saved", "Risk avoided"],
        "2023-08-14",
        "Shift handovers in Dublin lived on paper notes pinned to a board. Anything older than a "
        "week was in the bin.",
        "Daniel's team agreed to photograph the board at each handover and post it in one channel, "
        "which the search indexes.",
        "When a forklift fault came back after six months, the night shift found the old fix in minutes.",
        people=["Daniel O'Connor"],
        impact=(2, "hours saved per repeat fault"),
        helpful=10,
    ),
    story(
        "025",
        "An intern's question about waste reduced our scrap rate",
        "Daniel O'Connor",
        ["Innovation", "Leadership and culture"],
        ["Cost avoided", "New idea"],
        "2024-07-29",
        "A summer intern asked why we threw away the first five metres of every film roll.",
        "Nobody knew. The rule dated from an old machine we replaced in 2015; the new one needs "
        "half a metre.",
        "We changed the procedure that week. Scrap fell by 3%, and we now invite interns to ask "
        "\u201cwhy\u201d in every team meeting.",
        impact=(27000, "EUR a year saved"),
        helpful=18,
    ),
    story(
        "026",
        "Showing the draft proposal to Legal on day one",
        "Hannah Becker",
        ["Working out loud", "Trust and relationships"],
        ["Time saved", "Revenue won"],
        "2025-05-06",
        "Big bids used to reach Legal two days before the deadline, and the last-minute changes "
        "annoyed everyone, including customers.",
        "On a bid for a Swiss utility I shared the empty proposal skeleton with Aisha on the first "
        "day. She flagged an export rule that would have disqualified us.",
        "We designed around it from the start and won. Legal now joins every bid kick-off.",
        people=["Aisha Khan"],
        impact=(610000, "CHF contract won"),
        helpful=16,
        visibility="staff",
    ),
    story(
        "027",
        "A retired engineer's notebook saved a turbine overhaul",
        "Jonas Berg",
        ["Knowledge reuse", "Finding an expert"],
        ["Risk avoided", "Expert found"],
        "2021-08-23",
        "A customer in Bergen had a 1998 turbine controller that no current manual covered.",
        "Fatima remembered that a retired colleague had donated his notebooks to our archive. One of "
        "them had the wiring diagram, annotated by hand.",
        "The overhaul went ahead without risk to the customer's plant. We scanned all forty notebooks.",
        people=["Fatima Zahra El Idrissi"],
        impact=(40, "notebooks scanned"),
        helpful=25,
        featured=True,
    ),
    story(
        "028",
        "Writing down why we made a decision ended a yearly argument",
        "Kenji Watanabe",
        ["Leadership and culture", "Knowledge reuse"],
        ["Time saved"],
        "2022-09-12",
        "Every budget season we argued again about how to split shared IT costs between sites.",
        "I wrote a one-page note recording the rule we agreed and, crucially, why. The next year "
        "the discussion took ten minutes.",
        "Decision notes are now part of our finance handbook.",
        impact=(2, "days of meetings saved a year"),
        helpful=8,
    ),
    story(
        "029",
        "A customer visit taught me more than a month of dashboards",
        "Mei Lin",
        ["Customer insight", "Remote collaboration"],
        ["New idea", "Customer delighted"],
        "2023-03-21",
        "Our dashboards showed that customers rarely used the mobile app in the warehouse.",
        "I visited a customer's warehouse with Jonas. Everyone wore gloves; the app's buttons were "
        "too small to press with them.",
        "Bigger buttons and a glove mode doubled warehouse use of the app within two months.",
        people=["Jonas Berg"],
        impact=(2, "times more use"),
        helpful=14,
    ),
    story(
        "030",
        "Asking \u201cwho has done this before?\u201d at the kick-off",
        "Oliver Grant",
        ["Finding an expert", "Leadership and culture"],
        ["Expert found", "Time saved"],
        "2024-01-15",
        "We were opening our first site in Portugal and I had assembled a project team from headquarters.",
        "At the kick-off I asked whether anyone had opened a site before, anywhere. Rafael had, for "
        "a previous employer, in Porto.",
        "Rafael became our adviser and his checklist cut the opening from nine months to six.",
        people=["Rafael Costa"],
        impact=(3, "months saved"),
        helpful=17,
    ),
    story(
        "031",
        "Open office hours for security questions",
        "Nikolai Petrov",
        ["Finding an expert", "Trust and relationships"],
        ["Faster answer", "Risk avoided"],
        "2025-06-10",
        "Teams avoided asking Security questions because they expected a lecture.",
        "I started a weekly open hour with a sign saying \u201cno question is stupid\u201d. People came "
        "with questions they had been sitting on for months.",
        "In six months we closed 31 risky practices that no scan would have found.",
        impact=(31, "risky practices closed"),
        helpful=12,
        visibility="staff",
    ),
    story(
        "032",
        "A pilot customer helped design our onboarding",
        "Rafael Costa",
        ["Customer insight", "Onboarding"],
        ["Customer delighted", "Time saved"],
        "2022-02-08",
        "New customers took four months to use the portal fully, and many gave up.",
        "I asked one pilot customer to write down every question they had in their first month. "
        "They sent 63.",
        "We answered all 63 in a short guide. New customers now get there in six weeks.",
        people=["Lena Fischer", "Amara Okafor"],
        impact=(10, "weeks faster to full use"),
        helpful=19,
    ),
    story(
        "033",
        "Reusing the Norwegian tender saved a week",
        "Chloé Dubois",
        ["Knowledge reuse"],
        ["Time saved"],
        "2024-09-30",
        "A Danish tender asked for case studies, certifications and references in a specific format.",
        "Storybank showed that Hannah's team had answered an almost identical Norwegian tender a year "
        "earlier. The answers were in a shared folder nobody had mentioned.",
        "We adapted them in two days instead of writing from scratch.",
        people=["Hannah Becker"],
        impact=(5, "days saved"),
        helpful=7,
    ),
    story(
        "034",
        "The question I was embarrassed to ask",
        "Grace Mensah",
        ["Onboarding", "Leadership and culture"],
        ["Skill learned"],
        "2025-11-03",
        "Two months in, I still did not understand how our release process worked, and everyone "
        "seemed to assume I did.",
        "I asked in the team channel, with a note that I felt silly. Four people replied that they "
        "had never understood it either.",
        "Tomás ran a thirty-minute walkthrough for eleven people, and recorded it for the next ones.",
        people=["Tomás Lindqvist"],
        impact=(11, "people trained"),
        helpful=21,
    ),
    story(
        "035",
        "A photo from the field changed the product design",
        "Jonas Berg",
        ["Customer insight", "Innovation"],
        ["New idea"],
        "2023-05-25",
        "Customers kept breaking the same plastic latch on our control cabinets.",
        "I posted a photo of a customer's home-made metal replacement latch on the network. Priya "
        "saw it and recognised a material problem, not a design one.",
        "The latch is now made from the glass-filled nylon the customer's fix suggested. Returns "
        "of that part stopped.",
        people=["Priya Raman"],
        impact=(0, "latch returns since"),
        helpful=11,
    ),
    story(
        "036",
        "Working out loud on a budget cut made it fair",
        "Kenji Watanabe",
        ["Working out loud", "Trust and relationships"],
        ["Risk avoided"],
        "2025-02-12",
        "We had to cut 8% from site budgets. Last time it was done behind closed doors and it took "
        "a year to rebuild trust.",
        "This time I shared the spreadsheet, assumptions and all, with every site manager. They "
        "found two errors in my assumptions.",
        "The cut was fairer and was accepted in one meeting.",
        people=["Oliver Grant", "Daniel O'Connor"],
        impact=(8, "percent cut agreed in one meeting"),
        helpful=9,
        visibility="staff",
    ),
    story(
        "037",
        "The support team's glossary helped Sales speak the customer's language",
        "Amara Okafor",
        ["Knowledge reuse", "Customer insight"],
        ["Revenue won"],
        "2021-10-19",
        "Customers describe faults in their own words. Sales proposals used our internal product "
        "names, which nobody outside understood.",
        "Support had a glossary mapping customer phrases to products, built over years of tickets.",
        "Sales now uses it when writing proposals. Hannah's team credits it with two wins that year.",
        people=["Hannah Becker"],
        impact=(2, "deals credited"),
        helpful=10,
    ),
    story(
        "038",
        "A remote workshop that worked, because we sent the materials by post",
        "Sofia Marquez",
        ["Remote collaboration", "Innovation"],
        ["New idea", "Skill learned"],
        "2021-04-12",
        "Our leadership workshop moved online during lockdown, and the first session was a silent "
        "video call.",
        "For the second, we posted everyone a box of cards and sticky notes. Having something in "
        "their hands changed the energy completely.",
        "Ratings went from 2.9 to 4.6 out of 5, and the \u201cbox by post\u201d is now how we run "
        "remote workshops.",
        impact=(1.7, "points higher rating"),
        helpful=12,
    ),
    story(
        "039",
        "Our mentoring circle found a future team lead",
        "Oliver Grant",
        ["Leadership and culture", "Trust and relationships"],
        ["Skill learned"],
        "2023-11-27",
        "We struggled to find internal candidates for team lead roles.",
        "In an open mentoring circle, a warehouse operator described how she had reorganised the "
        "night shift's breaks. Everyone in the room recognised a leader.",
        "She now leads the night shift. Three more circles started this year.",
        people=["Daniel O'Connor", "Sofia Marquez"],
        impact=(3, "new mentoring circles"),
        helpful=14,
    ),
    story(
        "040",
        "Sharing the incident timeline within an hour",
        "Tomás Lindqvist",
        ["Working out loud", "Leadership and culture"],
        ["Customer delighted", "Faster answer"],
        "2022-12-05",
        "The customer portal was down for two hours. Usually customers heard from us the next day.",
        "We posted the live incident timeline in a shared channel that Support could read. Amara's "
        "team could tell customers what was happening while it happened.",
        "Complaints were a quarter of the usual number. Live timelines are now standard.",
        people=["Amara Okafor"],
        impact=(75, "percent fewer complaints"),
        helpful=16,
    ),
    story(
        "041",
        "Asking Finance how they forecast helped us plan spare parts",
        "Daniel O'Connor",
        ["Finding an expert", "Knowledge reuse"],
        ["Cost avoided"],
        "2025-08-18",
        "We kept too many of some spare parts and ran out of others.",
        "Marcus showed me the forecasting method Finance uses for cash flow. With a few changes it "
        "worked for parts demand.",
        "Stock fell by 15% and shortages halved.",
        people=["Marcus Adeyemi", "Kenji Watanabe"],
        impact=(120000, "EUR less stock"),
        helpful=13,
    ),
    story(
        "042",
        "Telling our story at the all-hands got three teams sharing",
        "Chloé Dubois",
        ["Leadership and culture", "Working out loud"],
        ["New idea"],
        "2026-01-20",
        "Storybank had fifty stories, mostly from Support and Operations.",
        "At the all-hands I told Jonas's spare-valve story in three minutes, then asked who had one "
        "like it. Twelve hands went up.",
        "Research, Legal and Finance published their first stories that month.",
        people=["Jonas Berg"],
        impact=(14, "new stories that month"),
        helpful=9,
    ),
    story(
        "043",
        "Draft: the supplier who knew our machine better than we did",
        "Priya Raman",
        ["Finding an expert"],
        ["Expert found"],
        "2026-10-14",
        "A test rig kept drifting out of calibration and our own engineers were stumped.",
        "I rang the supplier's application engineer, who had seen the same drift caused by a cooling "
        "fan mounted the wrong way round.",
        "We turned the fan around. Waiting for an editor before it is published.",
        people=["Jonas Berg"],
        impact=(3, "days saved"),
        publish=False,
    ),
    story(
        "044",
        "Draft: what I learned from shadowing a support call",
        "Grace Mensah",
        ["Customer insight", "Onboarding"],
        ["Skill learned"],
        "2026-11-02",
        "As a new engineer I had never spoken to a customer.",
        "Listening to Amara's team for an afternoon showed me how often one unclear error message "
        "costs a customer an hour.",
        "I rewrote six error messages. Waiting for an editor before it is published.",
        people=["Amara Okafor"],
        publish=False,
    ),
]

IN_REVIEW = {DEMO_PREFIX + "043", DEMO_PREFIX + "044"}


# Building --------------------------------------------------------------------------------------


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def draw_cover(theme: str, seed: str, size: tuple[int, int] = (1200, 630)) -> bytes:
    """An abstract JPEG cover in the theme's colours: a gradient, soft circles and flowing bands."""
    _, start, end, accent = THEMES.get(theme, ("", "#2e5e4e", "#9fd3c7", "#f6f1e7"))
    start, end, accent = _hex(start), _hex(end), _hex(accent)
    rng = random.Random(seed)
    width, height = size[0] // 2, size[1] // 2  # drawn at half size: soft shapes scale up well
    gradient = (
        PILImage.linear_gradient("L").rotate(rng.choice([0, 45, 90, 135, 180, 270])).resize((width, height))
    )
    image = PILImage.composite(
        PILImage.new("RGB", (width, height), end), PILImage.new("RGB", (width, height), start), gradient
    )

    def paint(colour, draw_shape, blur):
        mask = PILImage.new("L", (width, height), 0)
        draw_shape(ImageDraw.Draw(mask))
        mask = mask.filter(ImageFilter.GaussianBlur(radius=blur))
        image.paste(PILImage.new("RGB", (width, height), colour), (0, 0), mask)

    for _ in range(6):
        radius = rng.randint(height // 6, height // 2)
        x, y = rng.randint(0, width), rng.randint(0, height)
        opacity = rng.randint(50, 110)
        paint(
            rng.choice([accent, end, start]),
            lambda draw, x=x, y=y, r=radius, o=opacity: draw.ellipse((x - r, y - r, x + r, y + r), fill=o),
            blur=rng.choice([1, 2, 8]),
        )
    for band in range(3):
        amplitude = rng.randint(10, 35)
        frequency = rng.uniform(0.6, 1.6)
        phase = rng.random() * math.tau
        base = height * (0.3 + 0.2 * band)
        points = [
            (x, base + amplitude * math.sin(phase + x / width * math.tau * frequency))
            for x in range(0, width + 6, 6)
        ]
        thickness = rng.randint(4, 12)
        paint(
            accent, lambda draw, p=points, t=thickness: draw.line(p, fill=150, width=t, joint="curve"), blur=2
        )
    image = image.resize(size, PILImage.Resampling.BICUBIC)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85)
    return output.getvalue()


def _ensure_vocabulary() -> None:
    existing_themes = set(Theme.objects.values_list("slug", flat=True))
    for name, (description, *_colours) in THEMES.items():
        if slugify(name) not in existing_themes:
            Theme.objects.create(name=name, slug=slugify(name), description=description, is_approved=True)
    existing_outcomes = set(OutcomeType.objects.values_list("slug", flat=True))
    for name, description in OUTCOME_TYPES.items():
        if slugify(name) not in existing_outcomes:
            OutcomeType.objects.create(name=name, slug=slugify(name), description=description)


def _ensure_people() -> int:
    existing = set(Person.objects.filter(email__in=[p.email for p in PEOPLE]).values_list("email", flat=True))
    created = 0
    for demo_person in PEOPLE:
        if demo_person.email in existing:
            continue
        person = Person.objects.filter(name=demo_person.name, email__isnull=True).first() or Person(
            name=demo_person.name
        )
        person.email = demo_person.email
        person.role, person.team, person.bio = demo_person.role, demo_person.team, demo_person.bio
        person.save()
        person.strengths.add(*demo_person.strengths)
        created += 1
    return created


def _demo_readers(count: int) -> list:
    """Unusable accounts whose votes stand behind the demo's "this helped me" counts."""
    User = get_user_model()
    names = [f"{DEMO_READER_PREFIX}{n:02d}" for n in range(1, count + 1)]
    existing = {user.username: user for user in User.objects.filter(username__in=names)}
    readers = []
    for name in names:
        user = existing.get(name)
        if user is None:
            user = User(username=name, email=f"{name}@example.org", is_active=False)
            user.set_unusable_password()
            user.save()
        readers.append(user)
    return readers


@contextmanager
def _quiet_wagtail_log():
    """Wagtail logs one line per saved revision; forty of them are noise on a first start."""
    wagtail_logger = logging.getLogger("wagtail")
    previous = wagtail_logger.level
    wagtail_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        wagtail_logger.setLevel(previous)


def _finish_new_stories(created: list[StoryPage], extras: dict[str, dict]) -> None:
    """Covers, helpful votes, a revision per story, and the review for the drafts."""
    from stories.workflow import submit_for_review

    Image = get_image_model()
    readers = _demo_readers(max((extra["helpful"] for extra in extras.values()), default=0))
    for story in created:
        extra = extras[story.external_id]
        theme = extra["themes"][0] if extra["themes"] else ""
        cover = Image(
            title=f"Cover: {story.title}"[:255],
            description=f"Abstract cover in the colours of the theme {theme}"[:255],
        )
        cover.file = ImageFile(
            io.BytesIO(draw_cover(theme, story.external_id)), name=f"{story.external_id}.jpg"
        )
        cover.save()
        votes = [HelpfulVote(story=story, user=reader) for reader in readers[: extra["helpful"]]]
        HelpfulVote.objects.bulk_create(votes)
        StoryPage.objects.filter(pk=story.pk).update(
            cover_image=cover, helpful_count=len(votes), source="form"
        )
        story.refresh_from_db()
        revision = story.save_revision(log_action=False, clean=False)
        if story.live:
            StoryPage.objects.filter(pk=story.pk).update(
                live_revision=revision, has_unpublished_changes=False
            )
        elif story.external_id in IN_REVIEW:
            submit_for_review(story, None)


def demo_is_loaded() -> bool:
    ids = [record["external_id"] for record in STORIES]
    return StoryPage.objects.filter(external_id__in=ids).count() == len(ids) and Person.objects.filter(
        email__in=[person.email for person in PEOPLE]
    ).count() == len(PEOPLE)


def load_demo() -> dict[str, int]:
    """Create whatever demo content is missing; returns counts of what was created."""
    if demo_is_loaded():
        return {"stories": 0, "people": 0}
    with transaction.atomic(), bulk_import_mode():
        _ensure_vocabulary()
        people_created = _ensure_people()
        existing = set(
            StoryPage.objects.filter(external_id__in=[r["external_id"] for r in STORIES]).values_list(
                "external_id", flat=True
            )
        )
        missing = [record for record in STORIES if record["external_id"] not in existing]
        report = import_records(
            (
                (number, {k: v for k, v in record.items() if k != "helpful"})
                for number, record in enumerate(missing, 1)
            ),
            batch_size=100,
        )
        if report.errors:
            raise RuntimeError(f"The demo content is broken: {report.errors}")
        extras = {record["external_id"]: record for record in missing}
        created = list(StoryPage.objects.filter(external_id__in=extras).order_by("path"))
        with _quiet_wagtail_log():
            _finish_new_stories(created, extras)
    return {"stories": len(created), "people": people_created}
