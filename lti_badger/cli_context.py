"""What every `lti-badger` command shares: the settings and services of one invocation. A leaf
below the commands (as Flask keeps its CLI context), so they import it and nothing imports back."""

from __future__ import annotations

from functools import cached_property

import click

from .app import Services, build_services
from .settings import Settings, load_settings


class Context:
    """Lazily built settings and services shared by the commands of one invocation."""

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def services(self) -> Services:
        self.settings.instance_dir.mkdir(parents=True, exist_ok=True)
        return build_services(self.settings)


pass_ctx = click.make_pass_decorator(Context, ensure=True)
