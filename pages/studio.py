"""Studio: write a prompt, set parameters, see hints and the cost, and submit a run.

Generate sits right under the prompt, so on a phone (where the columns stack) it is
never more than a screen away from what was just typed.
"""

import streamlit as st

from components import (
    code_snippets,
    cost_card,
    draft,
    lineage,
    parameters,
    prompt_editor,
    submit,
    uploads,
    workspace,
)
from lib.i18n import t

ws = workspace.current()
parameters.init_state()
draft.restore(ws)
parameters.settle()
request, errors = parameters.current_request()
room = workspace.room(ws)

st.title(t("Studio"))
left, right = st.columns([7, 4], gap="large")
with right:
    spec = parameters.model_picker(errors)
    parameters.parameter_panel(spec, errors)
    uploads.panel(spec)
    estimate = cost_card.cost_card(request, errors, room)
with left:
    editor, side = st.columns([5, 4])
    with editor:
        prompt_editor.prompt_box(errors)
        takes = submit.takes_picker()
        if takes > 1:
            submit.takes_button(request, estimate, takes)
        else:
            submit.submit_button(request, estimate, room)
        draft.clear_button()
    with side:
        prompt_editor.hints_panel(spec, parameters.media_counts(spec), bool(st.session_state.get("web_search")))
    code_snippets.for_developers(request, errors)
lineage.while_remixing()
draft.save(ws)
