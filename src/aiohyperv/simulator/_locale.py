"""Simulated hosts in other display languages.

Windows localizes the texts WMI providers return for display -- ``Caption``, ``Description``,
``StatusDescriptions`` -- and the texts of WS-Management faults (``s:Reason/s:Text``,
``f:Message``, their ``xml:lang``), in the language of the host's UI.  libvirt learned this
the hard way: before 6.9 it selected VMs with ``Description = "Microsoft Virtual Machine"``,
which finds nothing on a German or Chinese host, and 6.9 switched to ``Name != __SERVER``
(``hyperv_driver.c``).  A simulated host with ``HostSpec(locale="de-DE")`` answers in German
so that tests prove a client never depends on English text.

The Simplified Chinese texts of Msvm_ComputerSystem and Msvm_VirtualEthernetSwitch are those
published MOF dumps of zh-CN hosts show (``虚拟机``, ``Microsoft 虚拟机``, ``宿主计算机系统``,
``正常运行``, ``确定``); the German and Japanese texts, and every fault text, are illustrative
translations (plausible, not recorded).  A text with no translation here stays English, as
texts a component does not localize do on real hosts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.simulator._instance import Instance

if TYPE_CHECKING:
    from aiohyperv.simulator._host import SimulatedHost

__all__ = ["LOCALES", "fault_text", "localize", "localized"]

#: The display languages a simulated host can have.
LOCALES = ("en-US", "de-DE", "ja-JP", "zh-CN")

#: The properties whose texts Windows localizes.
_LOCALIZED_PROPERTIES = ("Caption", "Description", "StatusDescriptions")

# English text -> (de-DE, ja-JP, zh-CN).
_TABLE: dict[str, tuple[str, str, str]] = {
    # Msvm_ComputerSystem
    "Virtual Machine": ("Virtueller Computer", "仮想マシン", "虚拟机"),
    "Microsoft Virtual Machine": (
        "Virtueller Microsoft-Computer",
        "Microsoft 仮想マシン",
        "Microsoft 虚拟机",
    ),
    "Hosting Computer System": (
        "Hostcomputersystem",
        "ホスト コンピューター システム",
        "宿主计算机系统",
    ),
    "Microsoft Hosting Computer System": (
        "Microsoft Hostcomputersystem",
        "Microsoft ホスト コンピューター システム",
        "Microsoft 宿主计算机系统",
    ),
    "Operating normally": ("Normaler Betrieb", "正常に動作しています", "正常运行"),
    "OK": ("OK", "OK", "确定"),
    # Msvm_VirtualSystemSettingData
    "Virtual Machine Settings": (
        "Einstellungen des virtuellen Computers",
        "仮想マシンの設定",
        "虚拟机设置",
    ),
    "Active settings for the virtual machine.": (
        "Aktive Einstellungen für den virtuellen Computer.",
        "仮想マシンのアクティブな設定。",
        "虚拟机的活动设置。",
    ),
    # Msvm_VirtualEthernetSwitch
    "Virtual Switch": ("Virtueller Switch", "仮想スイッチ", "虚拟交换机"),
    "Microsoft Virtual Switch": (
        "Virtueller Microsoft-Switch",
        "Microsoft 仮想スイッチ",
        "Microsoft 虚拟交换机",
    ),
    # integration components and devices
    "Microsoft Shutdown Component": (
        "Microsoft-Komponente zum Herunterfahren",
        "Microsoft シャットダウン コンポーネント",
        "Microsoft 关机组件",
    ),
    "Shutdown": ("Herunterfahren", "シャットダウン", "关机"),
    "Heartbeat": ("Takt", "ハートビート", "检测信号"),
    "Microsoft Heartbeat Service": (
        "Microsoft-Taktdienst",
        "Microsoft ハートビート サービス",
        "Microsoft 检测信号服务",
    ),
    "Keyboard": ("Tastatur", "キーボード", "键盘"),
    "Microsoft Virtual Keyboard": (
        "Virtuelle Microsoft-Tastatur",
        "Microsoft 仮想キーボード",
        "Microsoft 虚拟键盘",
    ),
    "No Contact": ("Kein Kontakt", "接続なし", "无联系"),
    "Error": ("Fehler", "エラー", "错误"),
    # Msvm_VirtualSystemManagementService
    "Hyper-V Virtual System Management Service": (
        "Hyper-V-Verwaltungsdienst für virtuelle Systeme",
        "Hyper-V 仮想システム管理サービス",
        "Hyper-V 虚拟系统管理服务",
    ),
    "Service for managing virtual systems.": (
        "Dienst zum Verwalten virtueller Systeme.",
        "仮想システムを管理するサービス。",
        "用于管理虚拟系统的服务。",
    ),
    "The Virtual Machine Management Service is running normally.": (
        "Der Verwaltungsdienst für virtuelle Computer wird normal ausgeführt.",
        "仮想マシン管理サービスは正常に実行されています。",
        "虚拟机管理服务正在正常运行。",
    ),
    # WS-Management fault reasons (s:Reason/s:Text)
    "The WS-Management service cannot process the request because the request contained "
    "invalid selectors for the resource. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten, da sie ungültige "
        "Selektoren für die Ressource enthält. ",
        "要求にリソースの無効なセレクターが含まれていたため、WS-Management サービスは要求を"
        "処理できません。",
        "WS-Management 服务无法处理该请求，因为该请求包含的资源选择器无效。 ",
    ),
    "The WS-Management service cannot process the request. The service cannot find the "
    "resource identified by the resource URI and selectors. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten. Der Dienst kann die "
        "durch den Ressourcen-URI und die Selektoren angegebene Ressource nicht finden. ",
        "WS-Management サービスは要求を処理できません。リソース URI とセレクターで識別される"
        "リソースが見つかりません。",
        "WS-Management 服务无法处理该请求。该服务找不到资源 URI 和选择器标识的资源。 ",
    ),
    "The data source could not process the filter. The filter might be missing or it might "
    "be invalid. Change the filter and try the request again. ": (
        "Die Datenquelle konnte den Filter nicht verarbeiten. Der Filter fehlt oder ist "
        "ungültig. Ändern Sie den Filter, und wiederholen Sie die Anforderung. ",
        "データ ソースはフィルターを処理できませんでした。フィルターが存在しないか、無効です。"
        "フィルターを変更して、要求を再試行してください。",
        "数据源无法处理该筛选器。该筛选器可能丢失或无效。请更改筛选器，然后重试该请求。 ",
    ),
    "The WS-Management service cannot process the request. The request contains one or more "
    "invalid SOAP headers. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten. Die Anforderung "
        "enthält mindestens einen ungültigen SOAP-Header. ",
        "WS-Management サービスは要求を処理できません。要求に無効な SOAP ヘッダーが 1 つ以上"
        "含まれています。",
        "WS-Management 服务无法处理该请求。该请求包含一个或多个无效的 SOAP 标头。 ",
    ),
    "The WS-Management service cannot complete the operation within the time specified in "
    "OperationTimeout.  ": (
        "Der WS-Verwaltungsdienst kann den Vorgang nicht innerhalb der in OperationTimeout "
        "angegebenen Zeit abschließen.  ",
        "WS-Management サービスは、OperationTimeout で指定された時間内に操作を完了できません。",
        "WS-Management 服务无法在 OperationTimeout 中指定的时间内完成该操作。  ",
    ),
    "An internal error occurred. ": (
        "Interner Fehler. ",
        "内部エラーが発生しました。",
        "出现内部错误。 ",
    ),
    "The WS-Management service cannot process the request because the enumeration context "
    "supplied in the message is not valid. The enumeration may have been completed, or the "
    "context may have expired. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten, da der Enumerations"
        "kontext ungültig ist. ",
        "メッセージで指定された列挙コンテキストが無効なため、WS-Management サービスは要求を"
        "処理できません。",
        "WS-Management 服务无法处理该请求，因为消息中提供的枚举上下文无效。 ",
    ),
    "The action is not supported by the service. ": (
        "Die Aktion wird vom Dienst nicht unterstützt. ",
        "このアクションはサービスでサポートされていません。",
        "该服务不支持此操作。 ",
    ),
    "The parameter is incorrect. ": (
        "Falscher Parameter. ",
        "パラメーターが間違っています。",
        "参数错误。 ",
    ),
    "The response that the WS-Management service computed exceeds the maximum envelope size "
    "that is allowed. ": (
        "Die vom WS-Verwaltungsdienst berechnete Antwort überschreitet die zulässige maximale "
        "Umschlaggröße. ",
        "WS-Management サービスが計算した応答が、許可されている最大エンベロープ サイズを"
        "超えています。",
        "WS-Management 服务计算的响应超过了允许的最大信封大小。 ",
    ),
    "The WS-Management service cannot process the request. This user is allowed a maximum "
    "number of concurrent operations, which has been exceeded. Close existing operations for "
    "this user, or raise the quota for this user. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten. Die maximale Anzahl "
        "gleichzeitiger Vorgänge für diesen Benutzer wurde überschritten. ",
        "WS-Management サービスは要求を処理できません。このユーザーに許可されている同時操作の"
        "最大数を超えました。",
        "WS-Management 服务无法处理该请求。已超过此用户允许的最大并发操作数。 ",
    ),
    # The opening sentence of most f:Message texts (the rest, a detail, stays as it is);
    # last, so that the longer sentences above that start the same way match first.
    "The WS-Management service cannot process the request. ": (
        "Der WS-Verwaltungsdienst kann die Anforderung nicht verarbeiten. ",
        "WS-Management サービスは要求を処理できません。",
        "WS-Management 服务无法处理该请求。 ",
    ),
}
_INDEX = {"de-DE": 0, "ja-JP": 1, "zh-CN": 2}


def localized(text: str, locale: str) -> str:
    """``text`` in ``locale`` (the English text when there is no translation)."""
    index = _INDEX.get(locale)
    if index is None:
        return text
    row = _TABLE.get(text)
    return row[index] if row is not None else text


def fault_text(text: str, locale: str) -> str:
    """A fault text in ``locale``: a known sentence translated, any other detail kept."""
    index = _INDEX.get(locale)
    if index is None:
        return text
    row = _TABLE.get(text)
    if row is not None:
        return row[index]
    for english, translations in _TABLE.items():
        if len(english) > 20 and text.startswith(english):
            return translations[index] + text[len(english) :]
    return text


def localize(host: SimulatedHost, inst: Instance) -> Instance:
    """``inst`` as a host in ``host.spec.locale`` shows it (the same instance for en-US)."""
    locale = host.spec.locale
    if locale not in _INDEX:
        return inst
    values = inst.values
    changed: dict[str, object] | None = None
    for name in _LOCALIZED_PROPERTIES:
        value = values.get(name)
        if isinstance(value, str):
            new: object = localized(value, locale)
        elif isinstance(value, list):
            new = [localized(v, locale) if isinstance(v, str) else v for v in value]
        else:
            continue
        if new != value:
            if changed is None:
                changed = dict(values)
            changed[name] = new
    return inst if changed is None else Instance(inst.cls, changed)
