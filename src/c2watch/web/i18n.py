"""Labels of the dashboard in English (default) and Japanese (``?lang=ja``)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGUAGES", "MESSAGES", "language", "translator"]

LANGUAGES = ("en", "ja")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app": "c2watch",
        "overview": "Threat IDs",
        "report": "Monthly response rates",
        "threat_id": "Threat ID",
        "reported": "Reported",
        "destinations": "Destinations",
        "destination": "Destination",
        "rate_30d": "Response rate (30 days)",
        "alive": "Alive",
        "dormant": "Dormant",
        "dead": "Dead",
        "unobserved": "Unobserved",
        "last_observed": "Last observed",
        "as_of": "As of",
        "rule": "Provisional rule: alive = an HTTP answer within 1 day of the latest observation; dormant = none "
        "in that day but one within 30 days; dead = observed for 30 days without an answer.",
        "month": "Month",
        "show": "Show",
        "http_chart": "HTTP status code over time",
        "loss_chart": "Ping packet loss over time",
        "pie_chart": "HTTP responses of the month",
        "no_response": "no response",
        "observations": "Observations",
        "answered": "Answered",
        "rate": "Response rate",
        "last_answer": "Last answer",
        "changes": "Status changes",
        "codes": "Codes",
        "time": "Time",
        "status": "HTTP status",
        "loss": "Loss %",
        "no_data": "No observations yet.",
        "history": "History",
        "monthly": "Monthly response rate",
        "phases": "Status-code phases",
        "observer": "Observer",
        "path": "Path",
        "reactivations": "Reactivations (dormant, then answering again)",
        "last_before": "Last answer before",
        "reactivated": "Answered again",
        "dormant_days": "Dormant days",
        "none": "None.",
        "retired": "retired",
        "language": "日本語",
        "error": "Error",
        "back": "Back to the threat IDs",
        "zone": "Times in",
    },
    "ja": {
        "app": "c2watch",
        "overview": "脅威ID一覧",
        "report": "月別応答率",
        "threat_id": "脅威ID",
        "reported": "報告日",
        "destinations": "接続先数",
        "destination": "接続先",
        "rate_30d": "応答率（30日）",
        "alive": "稼働",
        "dormant": "休眠",
        "dead": "停止",
        "unobserved": "未観測",
        "last_observed": "最終観測",
        "as_of": "基準時刻",
        "rule": "暫定ルール: 稼働 = 最新観測から1日以内にHTTP応答あり、休眠 = その1日は応答なしだが30日以内に応答あり、"
        "停止 = 30日間観測して応答なし。",
        "month": "年月",
        "show": "表示",
        "http_chart": "HTTPステータスコードの推移",
        "loss_chart": "pingパケットロス率の推移",
        "pie_chart": "当月のHTTP応答の割合",
        "no_response": "応答なし",
        "observations": "観測数",
        "answered": "応答数",
        "rate": "応答率",
        "last_answer": "最終応答",
        "changes": "ステータス変化",
        "codes": "コード",
        "time": "時刻",
        "status": "HTTPステータス",
        "loss": "ロス率 %",
        "no_data": "観測データはまだありません。",
        "history": "履歴",
        "monthly": "月別HTTP応答率",
        "phases": "ステータスコードの推移",
        "observer": "観測者",
        "path": "経過",
        "reactivations": "再活性化（休眠後に再応答）",
        "last_before": "休眠前の最終応答",
        "reactivated": "再応答",
        "dormant_days": "休眠日数",
        "none": "なし。",
        "retired": "除外済み",
        "language": "English",
        "error": "エラー",
        "back": "脅威ID一覧へ戻る",
        "zone": "タイムゾーン",
    },
}


def language(value: str | None) -> str:
    """The language asked for, English unless it is one we have."""
    return value if value in LANGUAGES else "en"


def translator(lang: str) -> Callable[[str], str]:
    """``t("key")`` in ``lang``, falling back to English, then to the key itself."""
    messages = MESSAGES[language(lang)]
    return lambda key: messages.get(key) or MESSAGES["en"].get(key, key)
