"""「我的待办」 behind signed personal links: ``todo`` (data), ``page`` (HTML), ``app`` (HTTP)."""
