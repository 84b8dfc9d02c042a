"""Conversations: chat messages, `/masterplan <request>` commands and the chat model's replies."""
