"""Hangup causes: ITU-T Q.850 cause codes and the FreeSWITCH names Smartflo's webhooks carry."""

MEANINGS = {
    1: "Unallocated (unassigned) number",
    2: "No route to the specified network",
    3: "No route to destination",
    6: "Channel unacceptable",
    16: "Normal call clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer from user (alerted)",
    20: "Subscriber absent",
    21: "Call rejected",
    22: "Number changed",
    25: "Exchange routing error",
    27: "Destination out of order",
    28: "Invalid number format (incomplete number)",
    29: "Facility rejected",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    44: "Requested circuit/channel not available",
    47: "Resource unavailable, unspecified",
    50: "Requested facility not subscribed",
    55: "Incoming calls barred within CUG",
    57: "Bearer capability not authorized",
    58: "Bearer capability not presently available",
    63: "Service or option not available",
    65: "Bearer capability not implemented",
    69: "Requested facility not implemented",
    79: "Service or option not implemented",
    81: "Invalid call reference value",
    88: "Incompatible destination",
    95: "Invalid message, unspecified",
    96: "Mandatory information element is missing",
    102: "Recovery on timer expiry",
    111: "Protocol error, unspecified",
    127: "Interworking, unspecified",
}

# FreeSWITCH hangup cause names → Q.850 codes (ORIGINATOR_CANCEL has none: the caller hung up first).
NAMES = {
    "UNALLOCATED_NUMBER": 1, "NO_ROUTE_TRANSIT_NET": 2, "NO_ROUTE_DESTINATION": 3, "CHANNEL_UNACCEPTABLE": 6,
    "NORMAL_CLEARING": 16, "USER_BUSY": 17, "NO_USER_RESPONSE": 18, "NO_ANSWER": 19, "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21, "NUMBER_CHANGED": 22, "EXCHANGE_ROUTING_ERROR": 25, "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28, "FACILITY_REJECTED": 29, "NORMAL_UNSPECIFIED": 31, "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38, "NORMAL_TEMPORARY_FAILURE": 41, "SWITCH_CONGESTION": 42,
    "REQUESTED_CHAN_UNAVAIL": 44, "FACILITY_NOT_SUBSCRIBED": 50, "INCOMING_CALL_BARRED": 55,
    "BEARERCAPABILITY_NOTAUTH": 57, "BEARERCAPABILITY_NOTAVAIL": 58, "SERVICE_UNAVAILABLE": 63,
    "BEARERCAPABILITY_NOTIMPL": 65, "FACILITY_NOT_IMPLEMENTED": 69, "SERVICE_NOT_IMPLEMENTED": 79,
    "INVALID_CALL_REFERENCE": 81, "INCOMPATIBLE_DESTINATION": 88, "INVALID_MSG_UNSPECIFIED": 95,
    "MANDATORY_IE_MISSING": 96, "RECOVERY_ON_TIMER_EXPIRE": 102, "PROTOCOL_ERROR": 111, "INTERWORKING": 127,
}

EXTRA_NAMES = {
    "ORIGINATOR_CANCEL": "The caller hung up before the call was answered",
    "LOSE_RACE": "Another agent answered first",
    "ALLOTTED_TIMEOUT": "The call reached its time limit",
    "MEDIA_TIMEOUT": "No audio was received (media timeout)",
}


def code_for(cause: str) -> int | None:
    return NAMES.get((cause or "").strip().upper())


def meaning(code: int | None, cause: str = "") -> str:
    """A sentence for a person: the Q.850 meaning of the code, else of the cause name, else ''."""
    if code in MEANINGS:
        return MEANINGS[code]
    name = (cause or "").strip().upper()
    if name in NAMES:
        return MEANINGS.get(NAMES[name], "")
    return EXTRA_NAMES.get(name, "")
