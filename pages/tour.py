"""Tour: the lab's story in steps, with live widgets, for a presenter."""

import streamlit as st

from recsys.dashboard.model_words import model_figures
from recsys.dashboard.tour import STEPS, say
from recsys.dashboard.ui import frame, tour, widgets

model = frame.require_model()
tour.init_state(model)
number = st.session_state[tour.TOUR_STEP]
step = STEPS[number - 1]
widgets.write_url(tour.TOUR, {"step": step.slug})

tour.navigation("top")
st.title(step.title)
st.markdown(f"#### {say(step, model_figures(model.manifest, model.history))}")
tour.STEP_WIDGETS[step.slug](model)
st.divider()
tour.navigation("bottom")
