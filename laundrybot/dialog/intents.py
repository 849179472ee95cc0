"""Built-in intents, the same in every language: their names and the rules about them.

What customers ask is taught by example phrases, one table per language
(laundrybot/lang/<code>/intents.py, EXAMPLES); every language gives examples for every intent
in INTENTS. The matcher compares a question with every example; the best intent wins if it is
similar enough.

FAQ entries and rules from the knowledge file become intents too (``faq:<id>``,
``rule:<id>``), so an owner can add questions without touching code.
"""

from __future__ import annotations

# Escalations: the gateway records them as events for the staff.
ESCALATIONS = ("call-staff", "money-taken", "machine-broken")

# Intents whose answer is about one machine, so a machine number in the question is kept.
USES_MACHINE = (
    "machine-status", "money-taken", "machine-broken", "prices", "cycle-times", "machine-info",
)  # fmt: skip

# Intents whose examples also hold with washer and dryer swapped: the engine adds the mirrored
# phrase, so "which dryer can I use" teaches "which washer can I use" too.
KIND_AGNOSTIC = (
    "prices",
    "cycle-times",
    "machine-status",
    "free-machines",
    "money-taken",
    "machine-broken",
    "payment-problem",
    "machine-info",
)

# The built-in intents; "fallback" (nothing matched) has no examples.
INTENTS = (
    "greeting", "thanks", "prices", "cycle-times", "hours", "staff-contact", "address",
    "payment", "payment-problem", "how-to-wash", "how-to-dry", "detergent", "lost-and-found",
    "rules", "machine-status", "free-machines", "call-staff", "money-taken", "machine-broken",
    "refunds", "problem-help", "machine-info",
)  # fmt: skip
# What to do about a problem that has not happened, or how the shop handles one ("how do
# refunds work", "what if a washer leaks"): the policy, never a report.
POLICIES = {
    "money-taken": "refunds",
    "machine-broken": "problem-help",
    "call-staff": "problem-help",
}
