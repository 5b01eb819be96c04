"""Localized texts for scripts/gen_classify_set.py, modelled on what real systems send.

Every language has the texts Exchange/Outlook, Sieve vacation, helpdesks, MTAs and
newsletters put in their mail, and what customers write. Placeholders in braces are
filled by the generator.
"""

from __future__ import annotations

from classify_set_text_more import DOMAINS, MORE_TEXTS, NAMES

TEXTS: dict[str, dict[str, object]] = {
    "en": {
        "ooo_prefix": "Automatic reply",
        "ooo_subject": "Out of Office",
        "ooo_body": [
            "Thank you for your email. I am out of the office until {until} with limited access "
            "to email. In urgent cases please contact {colleague}.\n\nBest regards\n{name}",
            "Hello,\n\nI'm currently on annual leave and will be back on {until}. Your message "
            "will not be forwarded.\n\nKind regards,\n{name}",
            "I am away until {until} and unable to read your message. I will reply upon my return.",
        ],
        "auto_body": "Thank you for contacting {company}. This is an automated response to let "
        "you know that we have received your email. Please do not reply to this email.",
        "ack_subject": "[{company}] Request received: {orig}",
        "ack_body": "Hello {first},\n\nWe have received your request and a member of our team "
        "will get back to you shortly. Your ticket number is #{ticket}.\n\nThe {company} team",
        "bounce_subject": "Undeliverable",
        "bounce_body": "Your message to {rcpt} couldn't be delivered.\n{rcpt} wasn't found at "
        "{domain}.",
        "newsletter_subject": "Our spring deals are here - up to 30% off",
        "newsletter_body": "View this email in your browser\n\nSpring is here! Discover our new "
        "collection.\n\nYou are receiving this email because you signed up on our website.\n"
        "Unsubscribe | Manage preferences",
        "ship_subject": "Your order {order} has shipped",
        "ship_body": "Good news! Your order {order} has been shipped. Tracking number: "
        "{tracking}.\nThis mailbox is not monitored.",
        "challenge_subject": "Please confirm your message to {user}",
        "challenge_body": "Hello,\n\nI use an anti-spam system that protects my inbox. To have "
        "your message delivered, please click the link below to confirm that you are a real "
        "person:\n\nhttps://verify.{domain}/c/{token}\n\nThank you.",
        "questions": [
            (
                "Question about invoice {order}",
                "Hello,\n\nI received invoice {order} yesterday "
                "but the amount seems higher than agreed. Could you please check it?\n\nThanks,\n"
                "{name}",
            ),
            (
                "Change of address",
                "Hi,\n\nplease update my delivery address to 12 Mill Road, "
                "Cambridge. My customer number is {ticket}.\n\nBest,\n{name}",
            ),
            (
                "Login problem",
                "Hello support,\n\nsince this morning I cannot log in to my "
                "account, the page just reloads. Can you help?\n\n{name}",
            ),
        ],
        "angry": [
            (
                "Still no answer!!!",
                "This is the third time I am writing to you and I still "
                "have no answer. I only ever get an automatic reply. If this is not solved by "
                "Friday I will cancel my contract and ask for a refund.\n\n{name}",
            ),
            (
                "complaint - order {order}",
                "I want to file a complaint. My order {order} never "
                "arrived and nobody has answered my emails. I have contacted my lawyer.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "Re: meeting next week",
            "Hi,\n\njust so you know, I will be out of the "
            "office next week, so could you send the documents by Friday? Thanks!"
            "\n\n{name}",
        ),
        "attribution": "On {date}, {sender} wrote:",
        "outlook": ("From", "Sent", "To", "Subject"),
        "reply_prefix": "RE",
        "fwd_prefix": "Fwd",
        "human_reply_auto": "Hello,\n\nI got only an automatic reply again. Is anyone "
        "actually reading these messages? I need an answer about my refund.\n\n{name}",
    },
    "de": {
        "ooo_prefix": "Automatische Antwort",
        "ooo_subject": "Abwesenheitsnotiz",
        "ooo_body": [
            "Vielen Dank für Ihre Nachricht. Ich bin bis zum {until} nicht im Büro und habe "
            "keinen Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an "
            "{colleague}.\n\nMit freundlichen Grüßen\n{name}",
            "Guten Tag,\n\nich bin derzeit im Urlaub und ab dem {until} wieder erreichbar. Ihre "
            "Nachricht wird nicht weitergeleitet.\n\nViele Grüße\n{name}",
            "Sehr geehrte Damen und Herren,\n\nich bin bis {until} auf Dienstreise. Nach meiner "
            "Rückkehr melde ich mich bei Ihnen.",
        ],
        "auto_body": "Vielen Dank für Ihre Nachricht an {company}. Dies ist eine automatische "
        "Antwort. Wir bearbeiten Ihr Anliegen so schnell wie möglich.",
        "ack_subject": "Ihre Anfrage #{ticket} ist eingegangen",
        "ack_body": "Sehr geehrte Kundin, sehr geehrter Kunde,\n\nwir haben Ihre Anfrage "
        "erhalten. Ihre Ticketnummer: {ticket}. Wir melden uns innerhalb von 24 Stunden bei "
        "Ihnen.\n\nIhr {company} Kundenservice",
        "bounce_subject": "Unzustellbar",
        "bounce_body": "Ihre Nachricht konnte nicht an {rcpt} zugestellt werden.\nDie "
        "E-Mail-Adresse wurde in der Domäne {domain} nicht gefunden.",
        "newsletter_subject": "Frühlingsaktion: bis zu 30 % Rabatt",
        "newsletter_body": "Newsletter im Browser ansehen\n\nDer Frühling ist da! Entdecken Sie "
        "unsere neue Kollektion.\n\nSie erhalten diese E-Mail, weil Sie sich für unseren "
        "Newsletter angemeldet haben. Newsletter abbestellen",
        "ship_subject": "Ihre Sendung {order} ist unterwegs",
        "ship_body": "Guten Tag,\n\nIhre Bestellung wurde versandt. Sendungsnummer: "
        "{tracking}.\nDiese E-Mail wurde automatisch erstellt, bitte antworten Sie nicht "
        "darauf.",
        "challenge_subject": "Bitte bestätigen Sie Ihre E-Mail an {user}",
        "challenge_body": "Hallo,\n\nich verwende einen Spamschutz. Um Ihre Nachricht "
        "zuzustellen, bestätigen Sie bitte Ihre Absenderadresse über diesen Link:\n\n"
        "https://verify.{domain}/c/{token}\n\nDanke.",
        "questions": [
            (
                "Frage zur Rechnung {order}",
                "Hallo,\n\nich habe gestern die Rechnung {order} "
                "erhalten, der Betrag ist aber höher als vereinbart. Können Sie das bitte prüfen?"
                "\n\nViele Grüße\n{name}",
            ),
            (
                "Adressänderung",
                "Guten Tag,\n\nbitte ändern Sie meine Lieferadresse auf "
                "Hauptstraße 5, 80331 München. Kundennummer {ticket}.\n\nDanke und Gruß\n{name}",
            ),
            (
                "Problem mit dem Login",
                "Hallo liebes Support-Team,\n\nseit heute Morgen kann "
                "ich mich nicht mehr anmelden. Die Seite lädt einfach neu. Können Sie mir "
                "helfen?\n\n{name}",
            ),
        ],
        "angry": [
            (
                "Zum dritten Mal: keine Antwort",
                "Ich schreibe Ihnen jetzt zum dritten Mal und "
                "habe immer noch keine Antwort bekommen. Schon wieder nur eine automatische "
                "Antwort! Wenn das nicht bis Freitag geklärt ist, kündige ich und wende mich an "
                "die Verbraucherzentrale.\n\n{name}",
            ),
            (
                "Beschwerde Bestellung {order}",
                "Hiermit lege ich Beschwerde ein. Meine "
                "Bestellung {order} ist nie angekommen und niemand meldet sich. Mein Anwalt ist "
                "informiert.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "AW: Termin nächste Woche",
            "Hallo,\n\nzur Info: ich bin nächste "
            "Woche nicht im Büro, schicken Sie mir die Unterlagen bitte bis "
            "Freitag.\n\nGruß\n{name}",
        ),
        "attribution": "Am {date} schrieb {sender}:",
        "outlook": ("Von", "Gesendet", "An", "Betreff"),
        "reply_prefix": "AW",
        "fwd_prefix": "WG",
        "human_reply_auto": "Hallo,\n\nich bekomme schon wieder nur eine automatische "
        "Antwort. Liest das überhaupt jemand? Ich brauche eine Auskunft zu meiner "
        "Erstattung.\n\n{name}",
    },
    "fr": {
        "ooo_prefix": "Réponse automatique",
        "ooo_subject": "Absence du bureau",
        "ooo_body": [
            "Bonjour,\n\nJe suis actuellement absente du bureau jusqu'au {until}. En cas "
            "d'urgence, veuillez contacter {colleague}.\n\nCordialement,\n{name}",
            "Je suis en congés et serai de retour le {until}. Votre message ne sera pas transféré.",
        ],
        "auto_body": "Bonjour,\n\nMerci pour votre message. Ceci est un message automatique : "
        "nous traiterons votre demande dans les meilleurs délais. Merci de ne pas répondre.",
        "ack_subject": "Nous avons bien reçu votre demande n°{ticket}",
        "ack_body": "Bonjour,\n\nNous avons bien reçu votre demande. Numéro de dossier : "
        "{ticket}. Nous vous répondrons sous 48 heures.\n\nLe service client {company}",
        "bounce_subject": "Non remis",
        "bounce_body": "Votre message n'a pas pu être remis à {rcpt}.\nL'adresse est "
        "introuvable dans le domaine {domain}.",
        "newsletter_subject": "Nos offres de printemps : jusqu'à -30 %",
        "newsletter_body": "Voir la version en ligne\n\nLe printemps est là ! Découvrez notre "
        "nouvelle collection.\n\nPour vous désabonner, cliquez ici. Se désinscrire",
        "ship_subject": "Votre colis {order} a été expédié",
        "ship_body": "Bonjour,\n\nVotre colis est en route. Numéro de suivi : {tracking}.\n"
        "Ceci est un e-mail automatique, merci de ne pas répondre.",
        "challenge_subject": "Vérification de l'expéditeur pour {user}",
        "challenge_body": "Bonjour,\n\nJ'utilise un filtre anti-spam. Pour que votre message "
        "soit distribué, please click the link below to confirm :\n\n"
        "https://verify.{domain}/c/{token}",
        "questions": [
            (
                "Question sur la facture {order}",
                "Bonjour,\n\nJ'ai reçu la facture {order} mais "
                "le montant ne correspond pas à la commande. Pouvez-vous vérifier ?\n\nMerci,\n"
                "{name}",
            ),
            (
                "Changement d'adresse",
                "Bonjour,\n\nMerci de mettre à jour mon adresse de "
                "livraison : 3 rue des Lilas, 69003 Lyon. Mon numéro client est {ticket}.\n\n"
                "Cordialement,\n{name}",
            ),
        ],
        "angry": [
            (
                "Toujours pas de réponse",
                "C'est la troisième fois que je vous écris et toujours "
                "pas de réponse. C'est inadmissible ! Je demande le remboursement et je vais "
                "porter plainte.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "RE: réunion",
            "Bonjour,\n\nje serai absent la semaine prochaine, "
            "pouvez-vous m'envoyer le contrat avant vendredi ?\n\nMerci\n{name}",
        ),
        "attribution": "Le {date}, {sender} a écrit :",
        "outlook": ("De", "Envoyé", "À", "Objet"),
        "reply_prefix": "RE",
        "fwd_prefix": "TR",
        "human_reply_auto": "Bonjour,\n\nJ'ai encore reçu une réponse automatique. Quelqu'un "
        "lit-il ces messages ? J'attends mon remboursement.\n\n{name}",
    },
    "es": {
        "ooo_prefix": "Respuesta automática",
        "ooo_subject": "Fuera de la oficina",
        "ooo_body": [
            "Hola,\n\nEstoy fuera de la oficina hasta el {until}. En caso de urgencia, "
            "contacte con {colleague}.\n\nSaludos,\n{name}",
            "Estaré de vacaciones hasta el {until} con acceso limitado al correo. Responderé "
            "a mi regreso.",
        ],
        "auto_body": "Gracias por su mensaje. Este es un mensaje automático: hemos recibido su "
        "correo y le responderemos lo antes posible. No responda a este mensaje.",
        "ack_subject": "Hemos recibido su solicitud #{ticket}",
        "ack_body": "Estimado cliente:\n\nHemos recibido su solicitud y le responderemos en "
        "un plazo de 24 horas. Número de caso: {ticket}.\n\nAtención al cliente {company}",
        "bounce_subject": "No se puede entregar",
        "bounce_body": "No se ha podido entregar su mensaje a {rcpt}.\nLa dirección no existe "
        "en el dominio {domain}.",
        "newsletter_subject": "Ofertas de primavera: hasta un 30 % de descuento",
        "newsletter_body": "Ver en el navegador\n\n¡Llega la primavera! Descubre la nueva "
        "colección.\n\nSi no desea recibir más correos, puede darse de baja aquí.",
        "ship_subject": "Su pedido {order} ha sido enviado",
        "ship_body": "Hola,\n\nSu pedido ha sido enviado. Número de seguimiento: {tracking}.\n"
        "Este es un mensaje automático, no responda a este correo.",
        "challenge_subject": "Please confirm your message a {user}",
        "challenge_body": "Hola,\n\nUtilizo un filtro antispam. To have your message "
        "delivered, haga clic en el enlace:\n\nhttps://verify.{domain}/c/{token}",
        "questions": [
            (
                "Consulta sobre la factura {order}",
                "Hola,\n\nHe recibido la factura {order} "
                "pero el importe no coincide con el pedido. ¿Pueden revisarlo?\n\nGracias,\n"
                "{name}",
            ),
            (
                "Cambio de dirección",
                "Buenos días,\n\nPor favor, actualicen mi dirección de "
                "envío a Calle Mayor 10, Madrid. Mi número de cliente es {ticket}.\n\nUn saludo,"
                "\n{name}",
            ),
        ],
        "angry": [
            (
                "Otra vez sin respuesta",
                "Es la tercera vez que escribo y todavía no tengo "
                "respuesta. Es inaceptable. Quiero una reclamación formal y el reembolso.\n\n"
                "{name}",
            ),
        ],
        "ooo_mention": (
            "RE: reunión",
            "Hola,\n\nestaré fuera la semana que viene, ¿me "
            "pueden enviar el contrato antes del viernes?\n\nGracias\n{name}",
        ),
        "attribution": "El {date}, {sender} escribió:",
        "outlook": ("De", "Enviado", "Para", "Asunto"),
        "reply_prefix": "RE",
        "fwd_prefix": "RV",
        "human_reply_auto": "Hola,\n\nOtra vez he recibido una respuesta automática. ¿Alguien "
        "lee estos mensajes? Necesito saber algo de mi reembolso.\n\n{name}",
    },
}

TEXTS.update(MORE_TEXTS)

__all__ = ["DOMAINS", "NAMES", "TEXTS"]
