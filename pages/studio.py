"""Studio: write a prompt, set parameters, see hints and the cost, and submit a run."""

import streamlit as st

from components import code_snippets, cost_card, parameters, prompt_editor, submit

parameters.init_state()
request, errors = parameters.current_request()

st.title("Studio")
left, right = st.columns([7, 4], gap="large")
with right:
    spec = parameters.model_picker(errors)
    parameters.parameter_panel(spec, errors)
with left:
    editor, side = st.columns([5, 4])
    with editor:
        prompt_editor.prompt_box(errors)
    with side:
        prompt_editor.hints_panel(spec, parameters.media_counts(spec), bool(st.session_state.get("web_search")))
    code_snippets.code_tabs(request)
with right:
    estimate = cost_card.cost_card(request, errors)
    submit.submit_button(request, estimate)
