"""What a draft is made of when a clip has two voices."""

from capture.drafting import heard_text, split_free_telling, suggest_title, tellers_words
from capture.segments import Segment

INTERVIEW = [
    Segment(0.0, 2.5, "Tell me about the moment it clicked for you.", "Interviewer"),
    Segment(1.2, 5.5, "It was when Grace answered my question on the network within an hour.", "Sam"),
    Segment(4.5, 7.6, "What did you do differently after that?", "Interviewer"),
    Segment(5.9, 11.3, "I realised I could post every question where everyone sees it.", "Sam"),
]


def test_the_teller_is_the_speaker_who_said_the_most_whatever_their_channel():
    told = tellers_words(INTERVIEW)
    assert told == (
        "It was when Grace answered my question on the network within an hour. "
        "I realised I could post every question where everyone sees it."
    )
    assert tellers_words(list(reversed(INTERVIEW))).startswith("I realised")
    assert suggest_title(told) == "It was when Grace answered my question on the network within an hour"
    context, aha, _outcome = split_free_telling(told)
    assert "Grace" in context and aha.startswith("I realised")


def test_one_voice_leaves_the_whole_transcript_to_the_draft():
    assert tellers_words([Segment(0.0, 3.0, "We kept one board for every team.")]) == ""
    assert tellers_words([Segment(0.0, 3.0, "We kept one board.", "Sam")]) == ""
    assert tellers_words([]) == ""


def test_in_guided_clips_the_teller_is_chosen_over_the_whole_telling():
    question_clip = [INTERVIEW[0], Segment(2.6, 3.0, "Yes.", "Sam")]
    assert tellers_words(question_clip, among=INTERVIEW + question_clip) == "Yes."
    assert tellers_words(question_clip) == "Tell me about the moment it clicked for you."


def test_what_the_teller_is_shown_names_each_speaker_of_an_interview():
    shown = heard_text(INTERVIEW[:2], "Tell me about it. It was when Grace answered.")
    assert shown == (
        "Interviewer: Tell me about the moment it clicked for you.\n\n"
        "Sam: It was when Grace answered my question on the network within an hour."
    )
    one_voice = [Segment(0.0, 3.0, "We kept one board.")]
    assert heard_text(one_voice, "We kept one board.") == "We kept one board."
