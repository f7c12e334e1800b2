"""The page's own words in French (the default) and English.

Messages from the library (errors, missing contacts) are shown as the command line
words them; only the page's labels and headings are here.
"""

from __future__ import annotations

import re

LANGUAGES = ("fr", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "title": ("dsar : vos données personnelles", "dsar: your personal data"),
    "skip": ("Aller au contenu", "Skip to content"),
    "nav_new": ("Nouvelle demande", "New request"),
    "nav_requests": ("Mes demandes", "My requests"),
    "nav_replies": ("Réponses", "Replies"),
    # replies read by dsar inbox, waiting for the person
    "h_replies": ("Réponses à relire", "Replies to review"),
    "replies_intro": (
        "Les réponses lues par dsar inbox que dsar n'a pas appliquées seules : confirmez "
        "ce qu'elles disent, corrigez-le, ou passez.",
        "The replies dsar inbox read and did not apply by itself: confirm what they say, "
        "change it, or skip them.",
    ),
    "no_replies": ("Aucune réponse n'attend.", "No reply is waiting."),
    "reply_from": ("De", "From"),
    "reply_kind": ("Ce qu'elle dit", "What it says"),
    "reply_because": ("Parce que", "Because"),
    "reply_reference": ("Demande", "Request"),
    "reply_attachments": ("Pièces jointes", "Attachments"),
    "reply_confirm": ("Confirmer", "Confirm"),
    "reply_skip": ("Passer", "Skip"),
    "reply_done": ("Enregistré : {what}. Ensuite : {next}", "Recorded: {what}. Next: {next}"),
    "local_only": (
        "Cette page tourne sur votre ordinateur ; rien n'est envoyé ailleurs.",
        "This page runs on your computer; nothing is sent anywhere else.",
    ),
    "error_top": ("Corrigez ce qui est signalé ci-dessous.", "Fix what is shown below."),
    "broken": (
        "Une erreur inattendue s'est produite ; rien n'a été enregistré. "
        "Réessayez, ou utilisez la commande dsar.",
        "Something unexpected went wrong; nothing was recorded. "
        "Try again, or use the dsar command.",
    ),
    "not_found": ("Cette page n'existe pas.", "There is no such page."),
    "no_csrf": (
        "Ce formulaire n'a pas son jeton de sécurité : rechargez la page et recommencez.",
        "This form lacks its security token: reload the page and try again.",
    ),
    "bad_form": ("Ce formulaire n'a pas pu être lu.", "This form could not be read."),
    # step 1: the message
    "h_message": ("1. Le message reçu", "1. The message you received"),
    "intro": (
        "Vous avez reçu un SMS ou un message vocal politique sans avoir donné votre numéro ? "
        "Collez-le ici : dsar cherche qui est derrière et écrit la lettre qui demande "
        "d'où vient votre numéro (RGPD, art. 15) et son effacement (art. 17 et 21).",
        "You received a political text or voice message without ever giving your number? "
        "Paste it here: dsar finds who is behind it and writes the letter that asks where "
        "your number came from (GDPR Art. 15) and for its erasure (Art. 17 and 21).",
    ),
    "sms_text": ("Texte du message", "Text of the message"),
    "sms_text_hint": ("Copiez-collez le message entier.", "Copy and paste the whole message."),
    "sms_sender": ("Expéditeur affiché", "Sender shown"),
    "sms_sender_hint": ("Nom ou numéro court.", "Name or short number."),
    "sms_date": ("Reçu le", "Received on"),
    "channel": ("Reçu par", "Received as"),
    "channel_sms": ("SMS", "text message"),
    "channel_voice": ("message vocal", "voice message"),
    "channel_call": ("appel", "call"),
    "channel_email": ("e-mail", "e-mail"),
    "channel_mail": ("courrier", "post"),
    "identify": ("Qui est derrière ?", "Who is behind it?"),
    # identification
    "h_found": ("2. Qui est derrière", "2. Who is behind it"),
    "controllers": (
        "Responsable probable (le parti qui a commandé l'envoi)",
        "Likely controller (the party that ordered it)",
    ),
    "brokers": (
        "Courtier probable (qui a fourni ou utilisé votre numéro)",
        "Likely broker (who supplied or used your number)",
    ),
    "nothing_found": (
        "Rien dans le message ne correspond à un parti, un candidat ou une campagne connus. "
        "Voici les courtiers connus pour envoyer des SMS politiques :",
        "Nothing in the message matches a known party, candidate or campaign. "
        "These brokers are known to send political text messages:",
    ),
    "stop": (
        "Numéro court STOP : {n}. Répondez-y STOP aussi : c'est gratuit.",
        "STOP short number: {n}. Reply STOP to it as well: it is free.",
    ),
    "links": ("Liens dans le message (non ouverts) :", "Links in the message (not opened):"),
    # step 3: the letter's details
    "h_details": ("3. À qui écrire, et vos coordonnées", "3. Whom to write to, and your details"),
    "recipients": ("Destinataires", "Recipients"),
    "recipients_hint": (
        "Une lettre par destinataire. Écrire aux deux est le plus sûr : le parti reste "
        "responsable et doit obtenir de son prestataire l'origine de vos données.",
        "One letter per recipient. Writing to both is safest: the party stays responsible "
        "and must obtain the origin of your data from its provider.",
    ),
    "no_recipient": ("Choisissez au moins un destinataire.", "Choose at least one recipient."),
    "other_recipient": ("Autre destinataire (facultatif)", "Another recipient (optional)"),
    "none": ("— aucun —", "— none —"),
    # what each recipient is, beside its name in the list (the registry's kinds)
    "kind_broker": ("courtier", "broker"),
    "kind_party": ("parti", "party"),
    "kind_authority": ("autorité", "authority"),
    "kind_processor": ("sous-traitant", "processor"),
    "kind_sender": ("expéditeur", "sender"),
    "kind_company": ("entreprise", "company"),
    "your_details": ("Vos coordonnées", "Your details"),
    "name": ("Nom et prénom", "Full name"),
    "address": ("Adresse postale", "Postal address"),
    "address_hint": ("Une ligne par ligne d'adresse.", "One line per address line."),
    "phone": ("Numéro qui a reçu le message", "Number that received the message"),
    "email": ("Votre e-mail (pour la réponse)", "Your e-mail (for the answer)"),
    "save_profile": (
        "Enregistrer ces coordonnées sur cet ordinateur pour la prochaine fois",
        "Save these details on this computer for next time",
    ),
    "right": ("Ce que vous demandez", "What you ask for"),
    "right_both": (
        "Accès et effacement (art. 15, 17, 21) : recommandé",
        "Access and erasure (Art. 15, 17, 21): recommended",
    ),
    "right_access": (
        "Accès seulement (art. 15) : d'où vient mon numéro, qui l'a reçu",
        "Access only (Art. 15): where my number came from, who received it",
    ),
    "right_erasure": (
        "Effacement et opposition (art. 17, 21)",
        "Erasure and objection (Art. 17, 21)",
    ),
    "lang": ("Langue de la lettre", "Language of the letter"),
    "lang_fr": ("français", "French"),
    "lang_en": ("anglais", "English"),
    "lrar": (
        "Je l'envoie en recommandé avec accusé de réception",
        "I will send it by registered letter with acknowledgement of receipt",
    ),
    "write": ("Écrire la lettre", "Write the letter"),
    # the letters
    "h_letters": ("Vos lettres", "Your letters"),
    "letters_intro": (
        "Chaque lettre est enregistrée dans « Mes demandes ». Envoyez-la, puis notez-y "
        "la date d'envoi : le délai d'un mois pour répondre commence alors.",
        "Each letter is recorded in \u201cMy requests\u201d. Send it, then record the "
        "date you sent it there: the one-month deadline to answer starts then.",
    ),
    "reference": ("Référence", "Reference"),
    "to": ("À", "To"),
    "preview": ("Aperçu de la lettre", "Preview of the letter"),
    "download_pdf": ("Télécharger le PDF (à imprimer)", "Download the PDF (to print)"),
    "download_email": ("Télécharger l'e-mail (.eml)", "Download the e-mail (.eml)"),
    "download_dossier": (
        "Télécharger le dossier CNIL (PDF)",
        "Download the CNIL dossier (PDF)",
    ),
    "mailto": (
        "Ouvrir dans ma messagerie (puis y coller le texte)",
        "Open in my mail program (then paste the text)",
    ),
    "download_draft": (
        "Télécharger le brouillon (PDF, adresse à compléter)",
        "Download the draft (PDF, address to be completed)",
    ),
    "draft_notice": (
        "Cette lettre est un brouillon : l'adresse postale de {name} manque, la fenêtre de "
        "l'enveloppe serait vide. Donnez-la avant d'imprimer la lettre.",
        "This letter is a draft: {name}'s postal address is missing, the envelope window "
        "would be empty. Give it before printing the letter.",
    ),
    "draft_give_address": ("Donner l'adresse", "Give the address"),
    "copy_text": ("Copier le texte de la lettre", "Copy the text of the letter"),
    "copy_hint": (
        "Cliquez dans le cadre, sélectionnez tout (Ctrl+A, ou Cmd+A sur Mac), copiez "
        "(Ctrl+C), puis collez dans votre message.",
        "Click in the box, select all (Ctrl+A, or Cmd+A on a Mac), copy (Ctrl+C), then "
        "paste into your message.",
    ),
    "low_confidence": ("piste peu sûre", "uncertain lead"),
    "confidence_help": (
        "Confiance : « élevée », le message nomme le candidat ou le parti et sa date "
        "correspond à une campagne documentée ; « moyenne », deux indices concordent ; "
        "« faible », un seul indice, ou une campagne d'une autre année ou envoyée autrement : "
        "une piste à vérifier, pas une conclusion. Seules les deux premières sont cochées.",
        "Confidence: \u201chigh\u201d, the message names the candidate or the party and its "
        "date matches a documented campaign; \u201cmedium\u201d, two clues agree; "
        "\u201clow\u201d, one clue only, or a campaign of another year or sent another way: "
        "a lead to check, not a finding. Only the first two are ticked.",
    ),
    "party_confirmed_hint": (
        "Une lettre à un courtier ne nomme un parti que si vous en êtes sûr : un indice "
        "du message n'est pas une preuve, et le courtier le démentirait.",
        "A letter to a broker names a party only if you are sure: a clue in the message "
        "is not proof, and the broker would deny it.",
    ),
    "party_confirmed": (
        "Je suis sûr que ce message a été envoyé pour {name} : le nommer dans les lettres "
        "aux courtiers",
        "I am sure this message was sent for {name}: name it in the letters to brokers",
    ),
    "one_party": (
        "Cochez un seul parti (celui dont vous êtes sûr).",
        "Tick one party only (the one you are sure of).",
    ),
    "missing": ("Contact manquant", "Missing contact"),
    "complete": (
        "Vous connaissez son adresse ? Complétez la lettre",
        "You know its address? Complete the letter",
    ),
    "complete_hint": (
        "dsar n'invente jamais une adresse : ne donnez qu'une adresse publiée par "
        "l'organisme (politique de confidentialité, mentions légales).",
        "dsar never invents an address: give only one the organisation published "
        "(privacy policy, legal notice).",
    ),
    "to_email": ("Son e-mail (protection des données)", "Its e-mail (data protection)"),
    "to_address": ("Son adresse postale", "Its postal address"),
    "keep_contact": (
        "L'enregistrer aussi pour mes prochaines lettres",
        "Keep it for my next letters too",
    ),
    "source": ("Où l'avez-vous trouvée ?", "Where did you find it?"),
    "source_hint": (
        "Une page web ou un courrier ; demandé pour l'enregistrer.",
        "A web page or a letter; needed to keep it.",
    ),
    "rewrite": ("Réécrire la lettre avec ce contact", "Write the letter again with it"),
    "after_sending": ("Une fois envoyée : noter l'envoi", "Once sent: record the sending"),
    # my requests
    "h_requests": ("Mes demandes", "My requests"),
    "no_requests": (
        "Aucune demande pour l'instant. Commencez par une nouvelle demande.",
        "No request yet. Start with a new request.",
    ),
    "requests_intro": (
        "Ouvrez une demande pour noter son envoi ou la réponse reçue, écrire la relance "
        "ou saisir la CNIL. Le destinataire a un mois pour répondre à partir de la "
        "réception.",
        "Open a request to record its sending or the answer, write the reminder or "
        "complain to the CNIL. The recipient has one month to answer from receipt.",
    ),
    "recipient": ("Destinataire", "Recipient"),
    "member": ("Membre", "Member"),
    "member_filter": ("Membre (partie du nom)", "Member (part of the name)"),
    "filter": ("Filtrer", "Filter"),
    "state": ("État", "State"),
    "sent_on": ("Envoyée le", "Sent on"),
    "deadline": ("Réponse due le", "Answer due by"),
    "days_left": ("Jours restants", "Days left"),
    "overdue_days": ("en retard de {n} j", "{n} days late"),
    "estimated": ("(compté depuis l'envoi)", "(counted from sending)"),
    "actions": ("Actions", "Actions"),
    "open": ("Ouvrir", "Open"),
    "h_request": ("Demande {ref}", "Request {ref}"),
    "files": ("Pièces", "Files"),
    "h_sent": ("Noter l'envoi", "Record the sending"),
    "sent_date": ("Envoyée le", "Sent on"),
    "lrar_number": ("Numéro du recommandé", "Registered-letter number"),
    "received": ("Date de l'accusé de réception", "Date on the acknowledgement of receipt"),
    "proof": ("Preuve (scan ou photo, 25 Mo au plus)", "Proof (scan or photo, 25 MB at most)"),
    "record_sent": ("Enregistrer l'envoi", "Record the sending"),
    "h_answer": ("Noter la réponse", "Record the answer"),
    "answer_state": ("Réponse reçue", "Answer received"),
    "answer_date": ("Reçue le", "Received on"),
    "answer_file": (
        "La réponse (PDF, e-mail, scan ; 25 Mo au plus)",
        "The reply (PDF, e-mail, scan; 25 MB at most)",
    ),
    "note": ("Ce qu'elle dit, en quelques mots", "What it says, in a few words"),
    "record_answer": ("Enregistrer la réponse", "Record the answer"),
    "h_remind": ("Relancer", "Send a reminder"),
    "remind_intro": (
        "Une lettre de relance qui donne un dernier délai de 15 jours.",
        "A reminder letter that gives a final 15-day deadline.",
    ),
    "write_reminder": ("Écrire la relance", "Write the reminder"),
    "h_complain": ("Saisir la CNIL", "Complain to the CNIL"),
    "complain_intro": (
        "Une plainte (art. 77) et un seul dossier PDF avec toutes les pièces, à déposer "
        "sur https://www.cnil.fr/fr/plaintes ou à poster.",
        "A complaint (Art. 77) and one dossier PDF with every piece, to file at "
        "https://www.cnil.fr/fr/plaintes or to post.",
    ),
    "write_complaint": ("Écrire la plainte et le dossier", "Write the complaint and dossier"),
    "done_sent": ("Envoi enregistré.", "Sending recorded."),
    "done_answer": ("Réponse enregistrée.", "Answer recorded."),
    "back": ("Retour à mes demandes", "Back to my requests"),
    "final_due": ("Dernier délai fixé par la relance", "Final date set by the reminder"),
    "late_extension": (
        "Prolongation notifiée hors délai (sans effet) le",
        "Extension notified too late (no effect) on",
    ),
    "follows": ("Suite de la demande", "Follows the request"),
    "follow_ups": ("Lettres qui suivent cette demande", "Letters that follow this request"),
    "answer_missing": (
        "Ce qui manque à la réponse (facultatif ; la relance et la plainte le nomment)",
        "What the answer lacks (optional; the reminder and the complaint name it)",
    ),
    "item_purposes": ("les finalités (15(1)(a))", "the purposes (15(1)(a))"),
    "item_categories": (
        "les catégories de données (15(1)(b))",
        "the categories of data (15(1)(b))",
    ),
    "item_recipients": ("les destinataires nommés (15(1)(c))", "the recipients, named (15(1)(c))"),
    "item_retention": ("la durée de conservation (15(1)(d))", "the retention period (15(1)(d))"),
    "item_rights": ("l'information sur les droits (15(1)(e))", "the rights (15(1)(e))"),
    "item_complaint": ("le droit de saisir la CNIL (15(1)(f))", "the right to complain (15(1)(f))"),
    "item_source": ("la source des données (15(1)(g))", "the source of the data (15(1)(g))"),
    "item_profiling": (
        "le profilage et sa logique (15(1)(h))",
        "profiling and its logic (15(1)(h))",
    ),
    "item_copy": ("la copie des données (15(3))", "the copy of the data (15(3))"),
    "optional": ("facultatif", "optional"),
}

# the library's words for states, rights and answers, as the page shows them
STATES = {
    "draft": ("à envoyer", "to send"),
    "sent": ("envoyée", "sent"),
    "received": ("reçue par le destinataire", "received"),
    "extended": ("délai prolongé", "extended"),
    "answered": ("répondue", "answered"),
    "partial": ("réponse incomplète", "partial answer"),
    "refused": ("refusée", "refused"),
    "id-requested": ("pièce d'identité demandée", "ID requested"),
    "overdue": ("en retard", "overdue"),
    "reminded": ("relancée", "reminded"),
    "complained": ("plainte déposée", "complained"),
    "closed": ("close", "closed"),
    "undelivered": ("non remise", "undelivered"),
}
RIGHTS = {
    "access": ("accès", "access"),
    "erasure": ("effacement", "erasure"),
    "both": ("accès et effacement", "access and erasure"),
}


def typeset(text: str) -> str:
    """French typography: no line break before : ; ? ! » nor after «."""
    return re.sub(r" ([:;?!»])", "\u00a0\\1", text).replace("« ", "«\u00a0")


def translator(lang: str):
    """t('key', n=3): the text in `lang`, formatted."""
    index = LANGUAGES.index(lang)

    def t(key: str, **values) -> str:
        text = TEXTS[key][index]
        text = text.format(**values) if values else text
        return typeset(text) if lang == "fr" else text

    def state(name: str) -> str:
        return STATES.get(name, (name, name))[index]

    def right(name: str) -> str:
        return RIGHTS.get(name, (name, name))[index]

    return t, state, right
