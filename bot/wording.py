"""What fixbot itself says: button labels and the sentences around the content.

The fixes' own texts live in the content (fixes/*.yaml); this is the bot's voice around them,
kept in one place so that a transport never invents wording and a translation has one file
to replace. Texts use the content's markup: **bold**, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    # Buttons on a step
    done: str = "✅ Done"
    didnt_work: str = "❌ This didn't work"
    skip: str = "⏭ Skip this fix"
    back: str = "⬅️ Back"
    stop: str = "✖️ Stop"
    confirm_caution: str = "⚠️ I understand, go on"
    # Buttons after a fix
    fixed: str = "👍 Yes, it's fixed"
    not_fixed: str = "👎 No, still broken"
    skip_rating: str = "No thanks"
    # Buttons around a walk
    something_else: str = "Something else"
    switch: str = "Switch to the new problem"
    keep: str = "Continue where I was"
    resume: str = "▶️ Continue where I left off"
    start_over: str = "🔄 Start over"
    topics: str = "📋 Topics"

    # Sentences
    welcome: str = (
        "Hi! I'm fixbot. Tell me in your own words what's wrong with your iPhone's "
        "iCloud backup, and I'll walk you through the fixes one step at a time.\n\n"
        "For example: **backup stuck**, **not enough storage**, **wifi won't connect**. "
        "Or pick a topic:"
    )
    help: str = (
        "Tell me what's wrong in a few words and I'll guide you, step by step.\n\n"
        "/fix **topic**: go straight to a fix, e.g. /fix wifi\n"
        "/topics: everything I can help with\n"
        "/cancel: stop the current walk\n"
        "/help: this message"
    )
    topics_intro: str = "Here's what I can help with. Pick one:"
    no_match: str = (
        "Sorry, I'm not sure what you mean. I help when an iPhone won't back up to iCloud. "
        "Pick the topic closest to your problem, or say it in other words:"
    )
    empty_message: str = "Tell me in a few words what's wrong, or pick a topic:"
    did_you_mean: str = "Did you mean one of these?"
    confirm: str = "Sounds like **{title}**. Is that it?"
    confirm_yes: str = "✅ Yes, walk me through it"
    greeting: str = "Hello! Tell me what's wrong, or pick a topic:"
    thanks: str = "You're welcome! If anything else comes up, just tell me."
    farewell: str = "Bye! Come back any time something needs fixing."
    not_text: str = "I can only read text. Tell me in words what's wrong, or pick a topic."
    unknown_command: str = "I don't know the command /{command}. Send /help to see what I can do."
    unknown_fix: str = "I don't know a fix called “{topic}”. Here's what I can help with:"
    walk_start: str = "Let's fix this: **{title}**. I have {count} fixes to try, quickest first."
    single_fix_start: str = "Let's go: **{title}**."
    next_fix: str = "OK, on to the next fix: **{title}**."
    skipped_fix: str = "Skipped. Next fix: **{title}**."
    progress_walk: str = "Fix {fix} of {fixes} · step {step} of {steps}"
    progress_fix: str = "Step {step} of {steps}"
    why: str = "Why: {reason}"
    tried: str = "Tried so far: {fixes}"
    caution: str = "⚠️ **Before you go on**\n{caution}"
    did_it_help: str = "Did that fix it?"
    resolved: str = "Great, glad it's working again! 🎉\nHow helpful was I, from 1 to 5?"
    rated: str = "Thanks for the feedback!"
    rated_skip: str = "All right. Happy to help any time."
    exhausted: str = (
        "We've tried everything I know for this ({fixes}), and I'm sorry it isn't fixed. "
        "The people below can look deeper, or we can start over."
    )
    stopped: str = "Stopped. Whenever you're ready, tell me what's wrong or send /fix."
    nothing_to_stop: str = "There's nothing to stop. Tell me what's wrong, or pick a topic:"
    switch_prompt: str = (
        "We're in the middle of **{current}** ({progress}). "
        "Switch to **{new}**, or continue where you were?"
    )
    already_on_it: str = "We're already working on that. Here's where we are:"
    use_buttons: str = "I didn't catch that. Use the buttons, or send /cancel to stop."
    welcome_back: str = (
        "Welcome back! You were on **{title}**, {progress}. Continue where you left off?"
    )
    stale_button: str = "That button is from an earlier step. Here's where you are now."
    finished_button: str = "That walk is over. Tell me what's wrong, or pick a topic."
    first_step: str = "This is the first step of this fix."
    # Chat-service wording (Telegram)
    not_yours: str = "This one belongs to {name}. Send /fix to start your own."
    dead_button: str = "This button doesn't work any more. Send /fix to start again."
    continue_in_private: str = "💬 Continue in private chat"
    error: str = "Sorry, something went wrong on my side. Please try again."
    slowed_down: str = (
        "Telegram asks me to slow down in this chat; your step will appear in about "
        "{seconds} seconds."
    )
    command_start: str = "Start, or continue where you left off"
    command_fix: str = "Fix a problem: /fix wifi, /fix storage, ..."
    command_topics: str = "Everything I can help with"
    command_help: str = "How to use fixbot"
    command_cancel: str = "Stop the current walk"

    def stars(self, rating: int) -> str:
        """A rating button's label: ⭐, ⭐⭐, then 3⭐ to 5⭐ (five stars do not fit a phone)."""
        return "⭐" * rating if rating < 3 else f"{rating}⭐"
