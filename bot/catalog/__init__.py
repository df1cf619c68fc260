"""The catalog: intents and fixes read from YAML, validated, and frozen.

`model` is the schema and the `Catalog` that holds the content; `loader` reads a content
folder into it and reports every problem at once. Layout of a content folder (see
docs/content.md):

    intents/<intent>.yaml      one intent per file
    intents/_vocabulary.yaml   optional: synonyms shared by all intents
    intents/_off_topic.yaml    optional: messages that are *not* ours (negative examples)
    fixes/<fix>.yaml           one fix per file
    fixes/_support.yaml        optional: where to go when every fix has been tried
"""

from bot.catalog.loader import load_catalog
from bot.catalog.model import (
    END,
    MATCHER_FILE,
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    Catalog,
    Choice,
    Fix,
    Intent,
    Link,
    OffTopic,
    SmallTalk,
    Step,
    Tuning,
    Vocabulary,
    alias_key,
)

__all__ = [
    "END",
    "MATCHER_FILE",
    "MAX_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "Catalog",
    "Choice",
    "Fix",
    "Intent",
    "Link",
    "OffTopic",
    "SmallTalk",
    "Step",
    "Tuning",
    "Vocabulary",
    "alias_key",
    "load_catalog",
]
