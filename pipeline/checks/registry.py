"""Every check rule, in report order. A rule id is stable: policies and ignore comments name it."""
from __future__ import annotations

from pipeline.checks import frontmatter, ignores, images, lifecycle, limits, placeholder, rendering, secrecy, wording
from pipeline.checks.model import Rule

RULES: tuple[Rule, ...] = (
    # front matter and place (Art. 3, 4, 5(4), 6(2))
    frontmatter.POST_LAYOUT,
    frontmatter.non_regular_file,
    frontmatter.front_matter,
    frontmatter.department_unknown,
    frontmatter.category_unknown,
    frontmatter.repost_source,
    frontmatter.secrecy_reviewer,
    frontmatter.secrecy_review_requested,
    frontmatter.theme_unknown,
    frontmatter.raw_html,
    # what the `gzh new` template left for the clerk to write
    placeholder.placeholder,
    # what the renderer cannot keep
    rendering.emphasis_literal,
    rendering.footnote_undefined,
    rendering.footnote_unused,
    # WeChat limits that would otherwise fail at publish time
    limits.title_length,
    limits.author_length,
    limits.digest_length,
    limits.source_url_length,
    limits.body_empty,
    limits.body_size,
    # images
    images.image_remote,
    images.image_outside_post,
    images.image_missing,
    images.image_format,
    images.image_oversize,
    # confidentiality scan (Art. 6)
    secrecy.secret_marking,
    secrecy.internal_marking,
    secrecy.document_number,
    secrecy.document_number_style,
    secrecy.id_number,
    secrecy.bank_card,
    secrecy.mobile_number,
    secrecy.address,
    # wording (文字关)
    wording.misstatement,
    wording.outdated_name,
    wording.traditional_chars,
    wording.typography,
    # after publishing
    lifecycle.published_changed,
    # ignore comments
    ignores.IGNORE_COMMENT,
    ignores.IGNORE_UNUSED,
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
RULE_IDS = frozenset(RULES_BY_ID)
