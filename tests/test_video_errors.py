"""Bad video files raise `VideoFileError` naming the file and saying what was expected; bad clips raise `ShapeError`."""
import pytest
import torch

import restorekit as rk
from restorekit.core import ConfigError, ShapeError, VideoFileError
from restorekit.video import iter_video, read_video, sample_clip_path, video_info, write_video


@pytest.fixture
def real_mp4_bytes():
    return sample_clip_path("carphone_pristine").read_bytes()


def _bad_files(tmp_path, real_mp4_bytes):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "head.mp4").write_bytes(real_mp4_bytes[:3000])
    (tmp_path / "notes.txt").write_text("not a video, just some words\n" * 50)
    (tmp_path / "notes.mp4").write_text("not a video, just some words\n" * 50)
    (tmp_path / "folder.mp4").mkdir()
    return {"missing.mp4": "no such file", "empty.mp4": "empty", "head.mp4": "cannot be read as a video",
            "notes.txt": "holds text", "notes.mp4": "cannot be read as a video", "folder.mp4": "not a regular file"}


@pytest.mark.parametrize("reader", [read_video, video_info, iter_video, lambda p: list(iter_video(p, chunk_size=4))],
                         ids=["read_video", "video_info", "iter_video_call", "iter_video_consumed"])
def test_bad_files_raise_video_file_error(tmp_path, real_mp4_bytes, reader):
    for name, words in _bad_files(tmp_path, real_mp4_bytes).items():
        path = tmp_path / name
        with pytest.raises(VideoFileError) as info:
            reader(path)
        message = str(info.value)
        assert str(path) in message and words in message and "expected" in message, message
        assert isinstance(info.value, OSError) and isinstance(info.value, rk.RestoreKitError)


def test_file_cut_after_its_index_is_detected(tmp_path):
    clip = read_video(sample_clip_path("carphone_pristine"), end=30)
    data = write_video(clip, tmp_path / "whole.mp4").read_bytes()   # faststart: the index comes before the frames
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    for reader in (read_video, lambda p: list(iter_video(p))):
        with pytest.raises(VideoFileError, match="truncated") as info:
            reader(cut)
        assert str(cut) in str(info.value)
    assert read_video(cut, end=3).shape == (3, 3, 144, 176)


def test_real_file_still_reads(tmp_path, real_mp4_bytes):
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(real_mp4_bytes)
    info = video_info(copy)
    assert (info.frames, info.height, info.width) == (120, 144, 176)
    assert read_video(copy, start=118).shape == (2, 3, 144, 176)


@pytest.mark.parametrize("bad", [torch.rand(3, 16, 16), torch.rand(1, 4, 3, 16, 16), torch.rand(4, 1, 16, 16),
                                 torch.randint(0, 255, (4, 3, 16, 16), dtype=torch.uint8),
                                 torch.full((4, 3, 16, 16), float("nan"))])
def test_write_bad_clip_raises_shape_error_and_writes_nothing(tmp_path, bad):
    with pytest.raises(ShapeError, match="clip"):
        write_video(bad, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_write_bad_codec_or_container(tmp_path):
    clip = torch.rand(2, 3, 16, 16)
    with pytest.raises(ConfigError, match="ffv1"):
        write_video(clip, tmp_path / "out.mp4", codec="mpeg2")
    with pytest.raises(ConfigError, match=".mkv"):
        write_video(clip, tmp_path / "out.mp4", codec="ffv1")
    assert list(tmp_path.iterdir()) == []


def test_odd_size_round_trips(tmp_path):
    clip = torch.randint(0, 256, (3, 3, 143, 175), generator=torch.Generator().manual_seed(1)).float() / 255
    assert torch.equal(read_video(write_video(clip, tmp_path / "x.mkv", codec="ffv1")), clip)
    assert read_video(write_video(clip, tmp_path / "x.mp4")).shape == (3, 3, 143, 175)


@pytest.mark.parametrize("codec, suffix", [("ffv1", ".mkv"), ("h264", ".mkv"), ("h265", ".mkv"), ("h264", ".mp4"), ("h265", ".mp4"),
                                           ("h264", ".mov")])
def test_every_cut_of_every_written_container_is_refused(tmp_path, codec, suffix):
    "Cut after every 1% of the file: each reader raises VideoFileError naming the file, never returns fewer frames."
    clip = torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    data = write_video(clip, tmp_path / f"whole{suffix}", codec=codec).read_bytes()
    cut = tmp_path / f"cut{suffix}"
    for percent in range(1, 100):
        cut.write_bytes(data[: len(data) * percent // 100])
        for reader in (read_video, lambda p: list(iter_video(p, chunk_size=3))):
            with pytest.raises(VideoFileError) as info:
                reader(cut)
            assert str(cut) in str(info.value) and "expected" in str(info.value), (percent, str(info.value))
    assert read_video(tmp_path / f"whole{suffix}").shape == (8, 3, 32, 32)
