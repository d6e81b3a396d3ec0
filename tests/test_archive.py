"""Archive: streamed, capped, verified downloads stored under random tokens (httpx.MockTransport, no network)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import av
import httpx
import pytest

from lib import archive, media, net
from lib.archive import Expectation, LinkExpired, NotAVideo, TooLarge, WrongVideo, archive_video, media_path
from lib.client import EvolinkClient
from lib.schema import GenerationRequest
from lib.simulator import serve_in_thread
from tests.support.media import make_mp4
from tests.support.waiting import wait_until


def serve(body: bytes = b"", status: int = 200, headers: dict | None = None, seen: list | None = None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        return httpx.Response(status, content=body, headers=headers)

    return httpx.Client(transport=httpx.MockTransport(handler))


EXPECT = Expectation(duration=4.0, size=(864, 496))
URL = "https://cdn.example.com/v/task-unified-1/../../video.mp4"


def files(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


def test_good_mp4_is_stored_under_a_random_token(tmp_path):
    result = archive_video(URL, tmp_path, EXPECT, client=serve(make_mp4()))
    assert archive.valid_token(result.token)
    assert (result.width, result.height) == (864, 496) and abs(result.duration - 4) < 0.5
    path = media_path(tmp_path, result.token)
    assert path == tmp_path / "media" / f"{result.token}.mp4"
    assert path.stat().st_size == result.size == len(make_mp4())
    # The video and its poster, named by the token: no temp file left, no server-derived name.
    assert files(tmp_path) == sorted(f"media/{result.token}{end}" for end in (".mp4", ".poster.jpg"))
    # The contact sheet is made when the run's details first ask for it.
    assert media.file_for(tmp_path, result.token, "sheet") == tmp_path / "media" / f"{result.token}.sheet.jpg"
    assert files(tmp_path) == sorted(f"media/{result.token}{end}" for end in (".mp4", ".poster.jpg", ".sheet.jpg"))


def test_expectation_follows_the_request():
    req = GenerationRequest(
        model="seedance-2.0-fast-text-to-video", prompt="x", duration=6, aspect_ratio="9:16", quality="480p"
    )
    assert archive.expectation(req) == Expectation(duration=6.0, size=(496, 864))
    adaptive = req.model_copy(update={"aspect_ratio": "adaptive"})
    assert archive.expectation(adaptive).size is None
    assert archive.expectation(GenerationRequest(model="seedance-2.0-text-to-video", prompt="x")) == Expectation(
        5.0, (1280, 720)
    )


def test_size_cap_aborts_mid_stream(tmp_path):
    body = make_mp4()
    with pytest.raises(TooLarge) as err:
        archive_video(URL, tmp_path, EXPECT, client=serve(body), max_bytes=len(body) // 2)
    assert not err.value.retry
    assert files(tmp_path) == []


def test_size_cap_trusts_a_declared_length_up_front(tmp_path):
    def handler(request):
        return httpx.Response(200, headers={"content-length": str(10**12)}, stream=httpx.ByteStream(b"x"))

    with pytest.raises(TooLarge):
        archive_video(URL, tmp_path, client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_non_video_bytes_are_rejected(tmp_path):
    with pytest.raises(NotAVideo) as err:
        archive_video(URL, tmp_path, EXPECT, client=serve(b"<html>Access denied</html>" * 50))
    assert err.value.retry
    assert files(tmp_path) == []


def test_wrong_duration_is_rejected(tmp_path):
    with pytest.raises(WrongVideo, match="lasts"):
        archive_video(URL, tmp_path, Expectation(duration=8.0, size=(864, 496)), client=serve(make_mp4()))
    assert files(tmp_path) == []


def test_wrong_pixel_size_is_rejected_unless_adaptive(tmp_path):
    with pytest.raises(WrongVideo, match="pixels"):
        archive_video(URL, tmp_path, Expectation(duration=4.0, size=(1280, 720)), client=serve(make_mp4()))
    ok = archive_video(URL, tmp_path, Expectation(duration=4.0, size=None), client=serve(make_mp4()))
    assert ok.width == 864


@pytest.mark.parametrize("status", [403, 404, 410])
def test_gone_link_means_expired(tmp_path, status):
    with pytest.raises(LinkExpired) as err:
        archive_video(URL, tmp_path, EXPECT, client=serve(b"<Error>AccessDenied</Error>", status=status))
    assert not err.value.retry


def test_server_error_and_dropped_connection_are_retryable(tmp_path):
    with pytest.raises(archive.ArchiveError) as err:
        archive_video(URL, tmp_path, client=serve(b"", status=502))
    assert err.value.retry

    def drop(request):
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with pytest.raises(archive.ArchiveError) as err:
        archive_video(URL, tmp_path, client=httpx.Client(transport=httpx.MockTransport(drop)))
    assert err.value.retry and "RemoteProtocolError" in str(err.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/v.mp4", "javascript:alert(1)", "", "//cdn/v.mp4"])
def test_non_http_schemes_are_refused_without_a_request(tmp_path, url):
    seen: list = []
    with pytest.raises(archive.ArchiveError, match="http"):
        archive_video(url, tmp_path, client=serve(make_mp4(), seen=seen))
    assert seen == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/files/a.mp4",
        "http://localhost/a.mp4",
        "http://[::1]/a.mp4",
        "http://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/a.mp4",
        "http://100.64.0.1/a.mp4",
    ],
)
def test_links_to_our_own_network_are_refused_without_a_request(tmp_path, url):
    seen: list = []
    with pytest.raises(archive.Refused, match="not a public address") as err:
        archive_video(url, tmp_path, EXPECT, client=serve(make_mp4(), seen=seen))
    assert not err.value.retry and seen == [] and files(tmp_path) == []


def test_allowed_hosts_may_be_local(tmp_path):
    seen: list = []
    url = "http://127.0.0.1:9/files/a.mp4"
    archive_video(url, tmp_path, EXPECT, client=serve(make_mp4(), seen=seen), allowed_hosts=["127.0.0.1"])
    assert seen == [url]


def redirects(*hops: str, final: bytes = b"") -> tuple[httpx.Client, list[str]]:
    """A server that redirects along ``hops`` (one per request), then serves ``final``."""
    seen: list[str] = []
    queue = list(hops)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if queue:
            return httpx.Response(302, headers={"location": queue.pop(0)})
        return httpx.Response(200, content=final)

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_redirects_are_followed_hop_by_hop(tmp_path):
    client, seen = redirects("/v2/video.mp4", "https://cdn2.example.com/v.mp4", final=make_mp4())
    saved = archive_video(URL, tmp_path, EXPECT, client=client)
    assert media_path(tmp_path, saved.token) is not None
    assert seen[1:] == ["https://cdn.example.com/v2/video.mp4", "https://cdn2.example.com/v.mp4"]


@pytest.mark.parametrize(
    "hop", ["http://127.0.0.1:8501/api/media/x", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"]
)
def test_a_redirect_to_our_own_network_or_a_file_is_not_followed(tmp_path, hop):
    client, seen = redirects(hop, final=make_mp4())
    with pytest.raises(archive.Refused) as err:
        archive_video(URL, tmp_path, EXPECT, client=client)
    assert not err.value.retry
    assert len(seen) == 1  # the link itself only: the hop was never opened
    assert files(tmp_path) == []


def test_an_endless_redirect_chain_stops(tmp_path):
    client, seen = redirects(*[f"/hop/{i}" for i in range(50)], final=make_mp4())
    with pytest.raises(archive.ArchiveError, match="redirected more than"):
        archive_video(URL, tmp_path, EXPECT, client=client)
    assert len(seen) == archive.MAX_REDIRECTS + 1 and files(tmp_path) == []


@pytest.mark.parametrize(
    "token",
    [
        "../" * 10 + "etc/passwd",
        "a" * 32 + "\n",
        "a" * 31,
        "a" * 33,
        "a" * 31 + ".",
        "a" * 31 + "/",
        "a" * 30 + "%2e",
        None,
        123,
        "A" * 31 + "é",
    ],
)
def test_media_path_rejects_malformed_tokens(tmp_path, token):
    assert media_path(tmp_path, token) is None


def test_media_path_needs_an_existing_file(tmp_path):
    token = "A" * 32
    assert media_path(tmp_path, token) is None
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / f"{token}.mp4").write_bytes(b"x")
    assert media_path(tmp_path, token) == tmp_path / "media" / f"{token}.mp4"


def test_archived_file_carries_prompt_and_settings_in_its_tags(tmp_path):
    """A downloaded MP4 still says which prompt and settings made it."""
    req = GenerationRequest(
        model="seedance-2.0-fast-text-to-video",
        prompt='A fox says "hello"',
        duration=4,
        quality="480p",
        generate_audio=True,
    )
    with serve_in_thread(port=0, speed=1000) as sim, EvolinkClient("sk-test", base_url=sim.base_url) as c:
        task = c.create(req)
        task = wait_until(lambda: (t := c.get_task(task.id)).state.terminal and t, interval=0.1)
        saved = archive_video(
            task.video_url,
            tmp_path,
            archive.expectation(req),
            metadata=archive.metadata_for(req),
            allowed_hosts=["127.0.0.1"],
        )
    path = media_path(tmp_path, saved.token)
    with av.open(str(path)) as container:
        assert container.metadata["title"] == 'A fox says "hello"'
        assert json.loads(container.metadata["comment"]) == req.to_payload()
        assert {s.type for s in container.streams} == {"video", "audio"}
    assert saved.size == path.stat().st_size


# --- storage faults: the disk, not the link ------------------------------------------------------


@pytest.mark.parametrize(
    ("err", "kind", "code"),
    [
        (errno.ENOSPC, archive.DiskFull, "disk_full"),
        (errno.EDQUOT, archive.DiskFull, "disk_full"),
        (errno.EIO, archive.StorageError, "storage_error"),
        (errno.EACCES, archive.StorageError, "storage_error"),
    ],
)
def test_a_write_error_is_a_retryable_storage_error_and_leaves_nothing(tmp_path, monkeypatch, err, kind, code):
    def refuse(out, chunk):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(archive, "write_chunk", refuse)
    with pytest.raises(kind) as raised:
        archive_video(URL, tmp_path, EXPECT, client=serve(make_mp4()))
    assert raised.value.retry and raised.value.code == code
    assert "Tell the facilitator" in str(raised.value) and str(err) not in str(raised.value)
    assert files(tmp_path) == []


def test_below_the_free_space_floor_nothing_is_downloaded(tmp_path):
    seen: list = []
    with pytest.raises(archive.DiskFull, match="nearly full") as err:
        archive_video(URL, tmp_path, EXPECT, client=serve(make_mp4(), seen=seen), min_free=2**62)
    assert err.value.retry and seen == [] and files(tmp_path) == []


def test_a_failed_rename_into_place_is_a_storage_error(tmp_path, monkeypatch):
    real = os.replace

    def no_room(src, dst):
        if str(dst).endswith(archive.SUFFIX) and "/media/" in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(archive.os, "replace", no_room)
    with pytest.raises(archive.DiskFull):
        archive_video(URL, tmp_path, EXPECT, client=serve(make_mp4()))
    assert files(tmp_path) == []


def test_stale_partial_downloads_are_removed_and_live_ones_kept(tmp_path):
    tmp = tmp_path / archive.TMP_DIR
    (tmp / "dl-crashed").mkdir(parents=True)
    (tmp / "dl-crashed" / "video.mp4.part").write_bytes(b"x" * 1000)
    (tmp / "old-layout.part").write_bytes(b"x" * 1000)
    with archive._scratch(tmp_path) as live:
        (live / "video.mp4.part").write_bytes(b"still downloading")
        assert archive.remove_stale_parts(tmp_path) == 2
        assert (live / "video.mp4.part").exists()  # held: another download in progress
        assert sorted(p.name for p in tmp.iterdir()) == [live.name]
    assert list(tmp.iterdir()) == []  # a finished download removes its own folder
    assert archive.remove_stale_parts(tmp_path / "never-made") == 0


def test_a_guarded_client_refuses_a_name_that_resolves_to_a_private_address(tmp_path):
    looked_up: list[str] = []

    def fake_dns(host, port):
        looked_up.append(host)
        return ["10.0.0.5"]

    client = net.guarded_client(resolve=fake_dns)
    with pytest.raises(archive.Refused, match=r"resolves to 10\.0\.0\.5") as err:
        archive_video("https://cdn.example.com/v.mp4", tmp_path, EXPECT, client=client)
    assert not err.value.retry and looked_up == ["cdn.example.com"] and files(tmp_path) == []
