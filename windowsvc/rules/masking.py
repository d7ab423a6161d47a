"""The one masking function family for personal data shown to the public (脱敏)."""


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*, a single character stays as it is."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str) -> str:
    """Keep the first 6 and last 4 characters: 330102**********1234."""
    value = (value or "").strip()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits: 138****5678."""
    value = (value or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_applicant(applicant: dict) -> dict:
    """The applicant as the public may see it: masked name, ID number and phone, nothing else."""
    return {
        "type": applicant.get("type"),
        "name": mask_name(applicant.get("name", "")),
        "id_type": applicant.get("id_type"),
        "id_number": mask_id_number(applicant.get("id_number", "")),
        "phone": mask_phone(applicant.get("phone", "")),
    }
