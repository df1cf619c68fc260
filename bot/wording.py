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
    talk_to_person: str = "🙋 Talk to a person"
    close_case: str = "✖️ Close my case"

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
        "/human: talk to a person from support\n"
        "/cancel: stop the current walk\n"
        "/help: this message"
    )
    topics_intro: str = "Here's what I can help with. Pick one:"
    no_match: str = (
        "Sorry, I'm not sure what you mean. I help when an iPhone won't back up to iCloud. "
        "Pick the topic closest to your problem, or say it in other words:"
    )
    other_device: str = (
        "That sounds like it's about a **{device}**, and I only know fixes for iPhones. If "
        "something on your iPhone needs fixing, pick the closest topic or tell me about it:"
    )
    refusal_menu: str = "If it's something else, pick the closest topic or tell me in other words:"
    empty_message: str = "Tell me in a few words what's wrong, or pick a topic:"
    did_you_mean: str = "Did you mean one of these?"
    confirm: str = "Sounds like **{title}**. Is that it?"
    confirm_yes: str = "✅ Yes, walk me through it"
    greeting: str = "Hello! Tell me what's wrong, or pick a topic:"
    thanks: str = "You're welcome! If anything else comes up, just tell me."
    farewell: str = "Bye! Come back any time something needs fixing."
    not_text: str = "I can only read text. Tell me in words what's wrong, or pick a topic."
    not_text_mid_walk: str = (
        "I can only read text. Here's where we are: use the buttons, or tell me in words."
    )
    unknown_command: str = "I don't know the command /{command}. Send /help to see what I can do."
    unknown_fix: str = "I don't know a fix called “{topic}”. Here's what I can help with:"
    walk_start: str = "Let's fix this: **{title}**. I have {count} fixes to try, quickest first."
    single_fix_start: str = "Let's go: **{title}**."
    continued_here: str = "Carrying on here, right where you were."
    next_fix: str = "OK, on to the next fix: **{title}**."
    skipped_fix: str = "Skipped. Next fix: **{title}**."
    progress_walk: str = "Fix {fix} of {fixes} · step {step} of {steps}"
    progress_fix: str = "Step {step} of {steps}"
    why: str = "Why: {reason}"
    tried: str = "Tried so far: {fixes}"
    caution: str = "⚠️ **Before you go on**\n{caution}"
    did_it_help: str = "Did that fix it?"
    resolved: str = "Great, glad it's working again! 🎉\nHow helpful was I, from 1 to 5?"
    resolved_by_staff: str = (
        "Great, glad it's working again! 🎉\nHow helpful was our support, from 1 to 5?"
    )
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
    greeting_mid_walk: str = "Hi! We're in the middle of a fix; here's where we are:"
    welcome_back: str = (
        "Welcome back! You were on **{title}**, {progress}. Continue where you left off?"
    )
    stale_button: str = "That button is from an earlier step. Here's where you are now."
    finished_button: str = "That walk is over. Tell me what's wrong, or pick a topic."
    first_step: str = "This is the first step of this fix."
    # A person from support (the staff desk)
    with_staff: str = (
        "A person from support has your case now. Write here (text, screenshots, files) and "
        "they'll see it; their answers come here too. Send /cancel to close the case."
    )
    with_staff_away: str = (
        "Our team works {hours}. It's outside those hours now, so expect an answer {when}; "
        "your case is open and nothing you write is lost."
    )
    with_staff_already: str = (
        "A person from support has your case, so I'll stay out of the way: write here and "
        "they'll see it, or send /cancel to come back to me."
    )
    staff_unavailable: str = (
        "Sorry, I couldn't reach the support team just now. Please try again in a little while."
    )
    no_staff: str = "I can't pass you to a person here, but these people can help:"
    no_staff_at_all: str = "Sorry, there's no one I can pass you to here."
    staff_solved: str = "Support marked your case as solved. Did that fix it?"
    staff_not_fixed: str = (
        "Sorry it still isn't right. You can talk to a person again, or tell me what's wrong."
    )
    returned_to_bot: str = "Support handed your case back to me."
    staff_gone: str = (
        "Sorry, the support team can't be reached at the moment, so I've closed your request "
        "to them. You're back with me."
    )
    case_cancelled: str = (
        "Your case with support is closed. Whenever you're ready, tell me what's wrong."
    )
    human_in_private: str = (
        "Let's talk in private, so your case stays between you and support. "
        "Tap below, then press Start."
    )
    human_in_private_button: str = "🙋 Talk to a person in private"
    relay_refused: str = (
        "Telegram wouldn't let me pass that on to support. Try sending it another way: "
        "as text, a photo or a file."
    )
    # Chat-service wording (Telegram)
    not_yours: str = "This one belongs to {name}. Send /fix to start your own."
    owner_admins: str = "the admins of {group}"
    owner_this_group: str = "this group"
    owner_channel: str = "a channel's admins"
    owner_someone: str = "the person who started it"
    walk_claimed: str = "This walk was posted as a channel: it's yours now, only you can press it."
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
    command_human: str = "Talk to a person from support"
    command_settings: str = "Choose how fixbot behaves in this group (admins)"

    # A complaint overheard in a group: one short offer, to that person only
    overheard: str = "Looks like **{title}**. Want me to walk you through the fixes?"
    walk_me_through: str = "🔧 Walk me through it"
    walk_me_through_private: str = "🔧 Walk me through it (private chat)"

    # The group settings panel (/settings), for the group's admins
    settings_private: str = (
        "/settings is for groups: add me to a group, and its admins can choose there whether "
        "I answer complaints I see, how often, and where."
    )
    settings_admins_only: str = "Only this group's admins can change my settings."
    settings_title: str = "⚙️ **fixbot in this group**"
    settings_overhear_on: str = (
        "**Answer complaints I see: on.** When a message clearly names a problem I know, I "
        "reply to it once with an offer to walk its author through the fixes."
    )
    settings_overhear_off: str = (
        "**Answer complaints I see: off.** I answer only commands, mentions and replies to me."
    )
    settings_cannot_read: str = (
        "⚠️ I can't read this group's messages, only commands and replies to me, so I can't "
        "answer complaints I see. To let me: in @BotFather send /setprivacy, choose me, "
        "**Disable**, then remove me from this group and add me again; or make me an admin "
        "here."
    )
    settings_cooldown: str = (
        "At most one offer every **{minutes} min** in this group, and one per person per hour; "
        "never to someone already walking a fix."
    )
    settings_walks_here: str = "Walks happen **here in the group**."
    settings_walks_private: str = "Walks happen **in a private chat** with me."
    settings_quiet: str = "Quiet hours: **{hours}** ({zone})."
    settings_quiet_none: str = "Quiet hours: **none**."
    settings_topic_on: str = "In this topic I **may** speak up."
    settings_topic_off: str = "In this topic I **stay quiet**."
    button_overhear_on: str = "✅ Answer complaints: on"
    button_overhear_off: str = "⬜ Answer complaints: off"
    button_overhear_unavailable: str = "🚫 Answer complaints: I can't read the group"
    button_cooldown: str = "⏱ Every {minutes} min"
    button_walks_here: str = "💬 Walks: in the group"
    button_walks_private: str = "🔒 Walks: in private"
    button_quiet: str = "🌙 Quiet: {hours}"
    button_topic_on: str = "🗣 This topic: on"
    button_topic_off: str = "🔇 This topic: off"
    settings_saved: str = "Saved."
    settings_unavailable: str = "I can't read this group's messages yet: see the panel."
    # The case card and the staff chat
    card_topic: str = "#{id} · {title} · {name}"
    card_solved: str = "✅ Solved"
    card_return: str = "↩️ Back to fixbot"
    card_state_open: str = "🟡 Waiting for someone from support"
    card_state_with_staff: str = "🟢 With {name} since {at}"
    card_state_solved: str = "✅ Solved by {name} at {at}"
    card_state_returned: str = "↩️ Handed back to fixbot by {name} at {at}"
    card_state_cancelled: str = "✖️ Closed by the person at {at}"
    card_state_unreachable: str = "🚫 Closed: the person can't be reached ({at})"
    card_state_staff_gone: str = "🚫 Closed: the bot could no longer write here ({at})"
    staff_reminder: str = "⏰ Case #{id} ({name}) has waited {minutes} minutes for an answer."
    staff_case_closed: str = "This case is closed; {name} won't see messages here any more."
    staff_cancelled: str = "✖️ {name} closed the case with /cancel."
    staff_unreachable: str = "🚫 {name} can't be reached (they blocked the bot); case closed."
    staff_not_delivered: str = "⚠️ Telegram refused to deliver that to {name}: {reason}"
    staff_rated: str = "{name} rated the help {stars} after the case was solved."
    staff_still_broken: str = "{name} says it still isn't fixed after the case was solved."
    # Reports for the people who run support (/stats, /gaps)
    reports_for_staff: str = (
        "📊 Statistics are only for the team that runs this bot. If something on your "
        "iPhone needs fixing, tell me what's wrong."
    )
    reports_not_here: str = (
        "📊 I show statistics only in the staff chat or in a private chat with me, not in "
        "a group everyone can read."
    )
    stats_chart_caption: str = (
        "How walks ended per intent over the last {days} days, and the funnel of the most "
        "walked one."
    )

    def stars(self, rating: int) -> str:
        """A rating button's label: ⭐, ⭐⭐, then 3⭐ to 5⭐ (five stars do not fit a phone)."""
        return "⭐" * rating if rating < 3 else f"{rating}⭐"
