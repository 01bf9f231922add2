"""The web channel's parts: KoboToolbox and ODK Central exports (entry: :mod:`consult.intake.submissions`)."""
