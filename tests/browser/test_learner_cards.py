"""The learner's badge cards at 360 px: the progress words ("1 of 2") stay on one line, beside
the bar or under it, and the cards fit the screen, also with the text enlarged to 200%
(WCAG 1.4.4 / 1.4.10)."""

from __future__ import annotations

import pytest

from lti_badger.devtools.demo import DEMO_CONTEXT_ID, LEARNERS, DemoRun, base_summary, run_steps
from lti_badger.devtools.scenario import seed_steps

# For each progress label: its height in lines, and whether it lies inside its card.
LABELS = """[...document.querySelectorAll('.card .progress span')].map(span => {
  const box = span.getBoundingClientRect(), card = span.closest('.card').getBoundingClientRect();
  return {text: span.textContent, lines: Math.round(box.height / parseFloat(getComputedStyle(span).lineHeight)),
          inside: box.left >= card.left && box.right <= card.right};
})"""


@pytest.mark.parametrize("text_size", ["100%", "200%"])
def test_progress_labels_on_the_learner_cards_at_360px(stack, new_page, check, text_size):
    run = DemoRun(stack.tool.settings, stack.tool.app, stack.tool.url, stack.sim, stack.platform_id, stack.activities)
    run.summary.update(base_summary(run))
    run_steps(run, seed_steps())  # the demo's three badges, enabled, with the LMS's grades
    page = new_page(viewport={"width": 360, "height": 800})
    page.goto(stack.sim.launch_page_url(LEARNERS[1][0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/me/badges**")
    page.evaluate("size => { document.documentElement.style.fontSize = size; }", text_size)
    labels = page.evaluate(LABELS)
    assert len(labels) == 3 and all(label["lines"] == 1 and label["inside"] for label in labels), labels
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check(page, f"learner-badge-cards-360-text-{text_size[:-1]}")
