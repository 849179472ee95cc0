"""The brain: knowledge base, intent matching, machine status answers, escalation."""
