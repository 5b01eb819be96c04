"""Localized texts (Italian, Dutch, Portuguese) and people for gen_classify_set.py."""

from __future__ import annotations

MORE_TEXTS: dict[str, dict[str, object]] = {
    "it": {
        "ooo_prefix": "Risposta automatica",
        "ooo_subject": "Fuori sede",
        "ooo_body": [
            "Buongiorno,\n\nsono fuori ufficio fino al {until}. In caso di urgenza contattare "
            "{colleague}.\n\nCordiali saluti,\n{name}",
            "Sono in ferie fino al {until}. Al mio rientro risponderò alla sua e-mail.",
        ],
        "auto_body": "Gentile cliente,\n\ngrazie per il suo messaggio. Questo è un messaggio "
        "automatico: la sua richiesta verrà gestita al più presto. Si prega di non rispondere.",
        "ack_subject": "Abbiamo ricevuto la sua richiesta n. {ticket}",
        "ack_body": "Gentile cliente,\n\nla sua richiesta è stata presa in carico con il "
        "numero {ticket}. La ricontatteremo entro 24 ore.\n\nServizio clienti {company}",
        "bounce_subject": "Non recapitabile",
        "bounce_body": "Non è stato possibile recapitare il messaggio a {rcpt}.\nL'indirizzo "
        "non esiste nel dominio {domain}.",
        "newsletter_subject": "Offerte di primavera: fino al 30% di sconto",
        "newsletter_body": "Visualizza nel browser\n\nÈ arrivata la primavera! Scopri la nuova "
        "collezione.\n\nNon vuoi più ricevere queste e-mail? Disiscriviti",
        "ship_subject": "Il tuo ordine {order} è stato spedito",
        "ship_body": "Ciao,\n\nil tuo ordine è stato spedito. Numero di tracciamento: "
        "{tracking}.\nSi prega di non rispondere a questa e-mail.",
        "challenge_subject": "Verify your message a {user}",
        "challenge_body": "Buongiorno,\n\nuso un filtro antispam. To have your message "
        "delivered, conferma tramite il link:\n\nhttps://verify.{domain}/c/{token}",
        "questions": [
            (
                "Domanda sulla fattura {order}",
                "Buongiorno,\n\nho ricevuto la fattura {order} "
                "ma l'importo non corrisponde all'ordine. Potete verificare?\n\nGrazie,\n{name}",
            ),
            (
                "Cambio indirizzo",
                "Salve,\n\nvi chiedo di aggiornare il mio indirizzo di "
                "consegna: Via Roma 1, Milano. Numero cliente {ticket}.\n\nSaluti\n{name}",
            ),
        ],
        "angry": [
            (
                "Ancora nessuna risposta",
                "È la terza volta che scrivo e ancora nessuna "
                "risposta. È inaccettabile, voglio il rimborso.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "R: riunione",
            "Ciao,\n\nla prossima settimana sarò fuori ufficio, "
            "puoi mandarmi il contratto entro venerdì?\n\nGrazie\n{name}",
        ),
        "attribution": "Il giorno {date} {sender} ha scritto:",
        "outlook": ("Da", "Inviato", "A", "Oggetto"),
        "reply_prefix": "R",
        "fwd_prefix": "I",
        "human_reply_auto": "Buongiorno,\n\nho ricevuto di nuovo una risposta automatica. "
        "Qualcuno legge questi messaggi? Aspetto il rimborso.\n\n{name}",
    },
    "nl": {
        "ooo_prefix": "Automatisch antwoord",
        "ooo_subject": "Afwezig",
        "ooo_body": [
            "Beste afzender,\n\nIk ben tot en met {until} afwezig. In dringende gevallen kunt u "
            "contact opnemen met {colleague}.\n\nMet vriendelijke groet,\n{name}",
            "Ik ben met vakantie tot {until}. Na mijn terugkeer beantwoord ik uw bericht.",
        ],
        "auto_body": "Bedankt voor uw bericht. Dit is een automatisch antwoord: wij hebben uw "
        "e-mail ontvangen en nemen zo snel mogelijk contact met u op.",
        "ack_subject": "Uw verzoek {ticket} is ontvangen",
        "ack_body": "Beste klant,\n\nWij hebben uw verzoek ontvangen. Uw ticketnummer: "
        "{ticket}. We nemen zo snel mogelijk contact met u op.\n\nKlantenservice {company}",
        "bounce_subject": "Onbestelbaar",
        "bounce_body": "Uw bericht aan {rcpt} kon niet worden bezorgd.\nHet adres bestaat "
        "niet in het domein {domain}.",
        "newsletter_subject": "Voorjaarsaanbiedingen: tot 30% korting",
        "newsletter_body": "Bekijk deze e-mail in je browser\n\nHet voorjaar is begonnen! "
        "Ontdek onze nieuwe collectie.\n\nGeen nieuwsbrief meer ontvangen? Uitschrijven",
        "ship_subject": "Uw pakket {order} is onderweg",
        "ship_body": "Hallo,\n\nUw pakket is onderweg. Track & trace: {tracking}.\nDit is een "
        "automatisch gegenereerd bericht.",
        "challenge_subject": "Please confirm your email aan {user}",
        "challenge_body": "Hallo,\n\nIk gebruik een spamfilter. To have your message "
        "delivered, bevestig via de link:\n\nhttps://verify.{domain}/c/{token}",
        "questions": [
            (
                "Vraag over factuur {order}",
                "Hallo,\n\nIk heb factuur {order} ontvangen, maar "
                "het bedrag klopt niet met de bestelling. Kunt u dit nakijken?\n\nBedankt,\n"
                "{name}",
            ),
            (
                "Adreswijziging",
                "Goedemiddag,\n\nWilt u mijn afleveradres wijzigen naar "
                "Kerkstraat 8, Utrecht? Klantnummer {ticket}.\n\nGroeten,\n{name}",
            ),
        ],
        "angry": [
            (
                "Nog steeds geen antwoord",
                "Dit is de derde keer dat ik schrijf en ik heb nog "
                "steeds geen antwoord. Onacceptabel. Ik wil mijn geld terug.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "Antw: overleg",
            "Hoi,\n\nik ben volgende week niet op kantoor, kun "
            "je de stukken voor vrijdag sturen?\n\nGroet\n{name}",
        ),
        "attribution": "Op {date} schreef {sender}:",
        "outlook": ("Van", "Verzonden", "Aan", "Onderwerp"),
        "reply_prefix": "Antw",
        "fwd_prefix": "Doorst",
        "human_reply_auto": "Hallo,\n\nIk krijg weer alleen een automatisch antwoord. Leest "
        "iemand deze berichten eigenlijk? Ik wacht op mijn terugbetaling.\n\n{name}",
    },
    "pt": {
        "ooo_prefix": "Resposta automática",
        "ooo_subject": "Fora do escritório",
        "ooo_body": [
            "Olá,\n\nEstou fora do escritório até {until}. Em caso de urgência, contacte "
            "{colleague}.\n\nCumprimentos,\n{name}",
            "Estarei de férias até {until}, com acesso limitado ao e-mail. Estarei de volta "
            "na segunda-feira.",
        ],
        "auto_body": "Obrigado pela sua mensagem. Esta é uma resposta automática: recebemos o "
        "seu e-mail e entraremos em contato em breve. Não responda a este e-mail.",
        "ack_subject": "Recebemos a sua solicitação #{ticket}",
        "ack_body": "Prezado cliente,\n\nRecebemos a sua solicitação e entraremos em contato "
        "em até 24 horas. Número do chamado: {ticket}.\n\nAtendimento {company}",
        "bounce_subject": "Não é possível entregar",
        "bounce_body": "A sua mensagem para {rcpt} não pôde ser entregue.\nO endereço não "
        "existe no domínio {domain}.",
        "newsletter_subject": "Promoções de primavera: até 30% de desconto",
        "newsletter_body": "Ver no navegador\n\nChegou a primavera! Conheça a nova coleção.\n\n"
        "Para cancelar a inscrição, clique aqui. Descadastrar",
        "ship_subject": "O seu pedido {order} foi enviado",
        "ship_body": "Olá,\n\nSeu pedido foi enviado. Código de rastreio: {tracking}.\nEsta é "
        "uma mensagem automática, não responda a este e-mail.",
        "challenge_subject": "Please confirm your message para {user}",
        "challenge_body": "Olá,\n\nUso um filtro anti-spam. To have your message delivered, "
        "confirme no link:\n\nhttps://verify.{domain}/c/{token}",
        "questions": [
            (
                "Dúvida sobre a fatura {order}",
                "Olá,\n\nRecebi a fatura {order}, mas o valor "
                "não corresponde à encomenda. Podem verificar?\n\nObrigado,\n{name}",
            ),
            (
                "Mudança de morada",
                "Bom dia,\n\nPor favor atualizem a minha morada de entrega "
                "para Rua Augusta 20, Lisboa. Número de cliente {ticket}.\n\nCumprimentos,\n"
                "{name}",
            ),
        ],
        "angry": [
            (
                "Ainda sem resposta",
                "É a terceira vez que escrevo e ainda sem resposta. Isto é "
                "inaceitável. Quero o reembolso.\n\n{name}",
            ),
        ],
        "ooo_mention": (
            "RES: reunião",
            "Olá,\n\nna próxima semana estarei fora, podem "
            "enviar o contrato até sexta?\n\nObrigada\n{name}",
        ),
        "attribution": "Em {date}, {sender} escreveu:",
        "outlook": ("De", "Enviada", "Para", "Assunto"),
        "reply_prefix": "RES",
        "fwd_prefix": "ENC",
        "human_reply_auto": "Olá,\n\nRecebi outra vez uma resposta automática. Alguém lê "
        "estas mensagens? Preciso de uma resposta sobre o reembolso.\n\n{name}",
    },
}

NAMES = {
    "en": ["James Walker", "Emily Clarke", "Oliver Hughes", "Sophie Turner"],
    "de": ["Jürgen Müller", "Anna Schäfer", "Lukas Weiß", "Sabine Köhler"],
    "fr": ["Camille Lefèvre", "Hélène Durand", "Théo Girard", "Élodie Moreau"],
    "es": ["Lucía Fernández", "Javier Muñoz", "Sofía Pérez", "Álvaro Gómez"],
    "it": ["Giulia Rossi", "Niccolò Bianchi", "Chiara Esposito", "Andrea Ricci"],
    "nl": ["Sanne de Vries", "Joris van Dijk", "Femke Bakker", "Daan Visser"],
    "pt": ["João Silva", "Inês Gonçalves", "Tiago Sousa", "Beatriz Araújo"],
}
DOMAINS = {
    "en": ["example.co.uk", "mail.example.com"],
    "de": ["beispiel.de", "firma-müller.de"],
    "fr": ["exemple.fr", "societe.example.fr"],
    "es": ["ejemplo.es", "empresa.example.es"],
    "it": ["esempio.it", "azienda.example.it"],
    "nl": ["voorbeeld.nl", "bedrijf.example.nl"],
    "pt": ["exemplo.pt", "empresa.example.com.br"],
}
