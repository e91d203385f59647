"""The app's file picker (a bank statement, an import file, a backup to restore): a directory tree rooted in the
working directory above a line where the path can also be typed. Enter on a file in the tree (or in the line)
posts `FilePicker.Chosen`; `path` is what is chosen now."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Input, Label


class FileTree(DirectoryTree):
    """The directory tree without hidden files and without the side files of an open ledger (-wal, -shm, -journal)
    or of an export being written (.part): nothing a person would pick."""

    SIDE_FILES = ("-wal", "-shm", "-journal", ".part")

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and not p.name.endswith(self.SIDE_FILES)]


class FilePicker(Vertical):
    DEFAULT_CSS = """
    FilePicker { height: 1fr; }
    FilePicker DirectoryTree { height: 1fr; }
    FilePicker Input { margin-bottom: 1; }
    """

    class Chosen(Message):
        def __init__(self, picker: FilePicker, path: str):
            super().__init__()
            self.picker, self.path = picker, path

        @property
        def control(self) -> FilePicker:
            return self.picker

    def __init__(self, start: Path, *, label: str, hint: str, tree_id: str, input_id: str, id: str | None = None):
        super().__init__(id=id)
        self.start, self.label, self.hint = Path(start), label, hint
        self.tree_id, self.input_id = tree_id, input_id

    def compose(self) -> ComposeResult:
        yield FileTree(str(self.start), id=self.tree_id)
        yield Label(self.label)
        yield Input(id=self.input_id, compact=True, placeholder=self.hint)

    @property
    def path(self) -> str:
        return self.query_one(f"#{self.input_id}", Input).value.strip()

    @on(DirectoryTree.FileSelected)
    def picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one(f"#{self.input_id}", Input).value = str(event.path)
        self.post_message(self.Chosen(self, str(event.path)))

    @on(Input.Submitted)
    def typed(self, event: Input.Submitted) -> None:
        if event.input.id == self.input_id:
            event.stop()
            if self.path:
                self.post_message(self.Chosen(self, self.path))
