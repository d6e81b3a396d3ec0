"""What the tests share that is not a test: fake providers, a recording transport, waiting, apps to drive.

Fixtures live in the conftest files and call these; a test module imports from here,
never from another test module or a conftest.

- ``waiting``: ``wait_until`` (poll a condition, generous timeout) and ``Clock`` (a clock the test moves)
- ``transport``: ``Recorder``, the one transport that notes every request a client sends
- ``provider``: ``FakeProvider``, the Evolink API as an ``httpx.MockTransport``
- ``media``: ``make_mp4``, a tiny real H.264 file
- ``apptest``: ``DemoApp``, the app under Streamlit's AppTest against a fake provider; ``walk``
- ``server``: ``AppProcess``, the whole app (``streamlit run server.py``) in a subprocess
- ``browser``: the headless Chromium and waiting for a page to be idle
- ``simulator``: talking to ``lib.simulator`` and checking it against the provider's OpenAPI schemas
- ``runs``: submitting runs and checking their endings (the reliability suite)
"""
