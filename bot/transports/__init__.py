"""Transports: the edges that turn a chat service's updates into engine events and the
engine's replies into messages. Each uses `bot.conversations.Conversations`."""
