"""The knowledge base (KBMS): the approved answers every agent gives, searchable in Chinese and English."""
